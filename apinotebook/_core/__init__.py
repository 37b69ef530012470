"""The private layer every part of apinotebook shares: HTTP, JSON, secrets, XML, paths."""
