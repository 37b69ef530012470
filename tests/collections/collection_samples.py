"""Small collections written for the unit tests (the corpus holds the real-world ones)."""

from __future__ import annotations

from typing import Any

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def postman_crm(base: str = "{{baseUrl}}") -> dict[str, Any]:
    """A Postman v2.1 collection for the sandbox CRM: auth inherited, scripts, every body mode."""
    return {
        "info": {"name": "CRM tour", "description": "Contacts of the sandbox CRM.", "schema": V21},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{crmToken}}"}]},
        "variable": [
            {"key": "baseUrl", "value": "http://127.0.0.1:1/crm"},
            {"key": "contactId", "value": ""},
        ],
        "item": [
            {
                "name": "Contacts",
                "description": "Read and write contacts.",
                "item": [
                    {
                        "name": "List contacts",
                        "event": [
                            {
                                "listen": "test",
                                "script": {
                                    "exec": [
                                        'pm.test("ok", function () {',
                                        "    pm.response.to.have.status(200);",
                                        "});",
                                        "var body = pm.response.json();",
                                        'pm.collectionVariables.set("contactId", body.data[0].id);',
                                        "console.log(body);",
                                    ]
                                },
                            }
                        ],
                        "request": {
                            "method": "GET",
                            "header": [{"key": "Accept", "value": "application/json"}],
                            "url": {
                                "raw": f"{base}/contacts?limit=5",
                                "host": [base],
                                "path": ["contacts"],
                                "query": [{"key": "limit", "value": "5"}],
                            },
                            "description": "The first five contacts.",
                        },
                    },
                    {
                        "name": "Get one contact",
                        "request": {
                            "method": "GET",
                            "url": f"{base}/contacts/:id",
                        },
                    },
                    {
                        "name": "Create a contact",
                        "event": [
                            {
                                "listen": "test",
                                "script": {
                                    "exec": "pm.expect(pm.response.code).to.eql(201);"
                                    '\npm.expect(pm.response.json().email).to.eql("ada@example.com");'
                                },
                            }
                        ],
                        "request": {
                            "method": "POST",
                            "header": [{"key": "Content-Type", "value": "application/json"}],
                            "body": {
                                "mode": "raw",
                                "raw": '{"email": "ada@example.com", "first_name": "Ada",'
                                ' "last_name": "Lovelace"}',
                                "options": {"raw": {"language": "json"}},
                            },
                            "url": f"{base}/contacts",
                        },
                    },
                ],
            },
            {
                "name": "Public",
                "auth": {"type": "noauth"},
                "item": [
                    {
                        "name": "Form post",
                        "request": {
                            "method": "POST",
                            "header": [{"key": "X-Api-Key", "value": "k-9f8e7d6c5b4a39281706"}],
                            "body": {
                                "mode": "urlencoded",
                                "urlencoded": [
                                    {"key": "name", "value": "Ada"},
                                    {"key": "password", "value": "hunter2-hunter2"},
                                ],
                            },
                            "url": f"{base}/forms",
                        },
                    },
                    {
                        "name": "GraphQL",
                        "request": {
                            "method": "POST",
                            "body": {
                                "mode": "graphql",
                                "graphql": {
                                    "query": "query ($n: Int) { contacts(first: $n) { id } }",
                                    "variables": '{"n": 3}',
                                },
                            },
                            "url": f"{base}/graphql",
                        },
                    },
                    {
                        "name": "Upload",
                        "request": {
                            "method": "POST",
                            "body": {
                                "mode": "formdata",
                                "formdata": [
                                    {"key": "note", "value": "hi", "type": "text"},
                                    {"key": "file", "src": "/nowhere/a.txt", "type": "file"},
                                ],
                            },
                            "url": f"{base}/upload",
                        },
                    },
                    {
                        "name": "Signed",
                        "request": {
                            "auth": {"type": "awsv4", "awsv4": [{"key": "region", "value": "x"}]},
                            "method": "GET",
                            "url": "https://example.com/{{$randomFirstName}}",
                        },
                    },
                ],
            },
        ],
    }


def crm_environment(url: str) -> dict[str, Any]:
    """A Postman environment pointing the collection at a running CRM."""
    return {
        "name": "sandbox",
        "values": [
            {"key": "baseUrl", "value": url, "enabled": True},
            {"key": "crmToken", "value": "never-written-anywhere", "type": "secret"},
        ],
        "_postman_variable_scope": "environment",
    }


INSOMNIA_V5 = """\
type: collection.insomnia.rest/5.0
name: Echo workspace
meta:
  id: wrk_1
  description: An Insomnia v5 export.
collection:
  - name: Users
    meta:
      id: fld_1
    authentication:
      type: basic
      username: "{{ _.user }}"
      password: "{{ _.password }}"
    children:
      - url: "{{ _.base_url }}/users"
        name: List users
        meta:
          id: req_1
        method: GET
        parameters:
          - name: page
            value: "1"
        headers:
          - name: Accept
            value: application/json
      - url: "{{ _.base_url }}/users"
        name: Create user
        meta:
          id: req_2
        method: POST
        body:
          mimeType: application/json
          text: '{"name": "{{ _.name }}", "age": 36}'
environments:
  name: Base Environment
  meta:
    id: env_1
  data:
    base_url: http://localhost:1
    user: ada
    name: Ada
  subEnvironments:
    - name: Production
      meta:
        id: env_2
      data:
        base_url: https://api.example.com
"""

BRU_REQUEST = """\
meta {
  name: Get user
  type: http
  seq: 1
}

get {
  url: {{baseUrl}}/users/:id
  body: none
  auth: bearer
}

params:path {
  id: 42
}

headers {
  Accept: application/json
  ~X-Debug: 1
}

auth:bearer {
  token: {{token}}
}

assert {
  res.status: eq 200
}

vars:post-response {
  userName: res.body.name
}

docs {
  Reads one user.
}
"""

BRU_ENV = """\
vars {
  baseUrl: http://localhost:1
}
vars:secret [
  token
]
"""


def har_log(url: str) -> dict[str, Any]:
    """A browser-like HAR with noise headers, a cookie and an image."""
    noise = [
        {"name": "User-Agent", "value": "Mozilla/5.0"},
        {"name": "sec-ch-ua", "value": '"Chromium";v="120"'},
        {"name": "Accept-Encoding", "value": "gzip"},
        {"name": "Cookie", "value": "session=abc123def456"},
        {"name": "Accept", "value": "application/json"},
    ]
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "Chromium", "version": "120"},
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": f"{url}/items?x=1",
                        "httpVersion": "HTTP/1.1",
                        "headers": [*noise, {"name": "Content-Type", "value": "application/json"}],
                        "queryString": [{"name": "x", "value": "1"}],
                        "postData": {"mimeType": "application/json", "text": '{"a": [1, 2]}'},
                    },
                    "response": {"status": 200, "content": {"mimeType": "application/json"}},
                },
                {
                    "_resourceType": "image",
                    "request": {
                        "method": "GET",
                        "url": f"{url}/logo.png",
                        "httpVersion": "h2",
                        "headers": [],
                    },  # fmt: skip
                    "response": {"status": 200, "content": {"mimeType": "image/png"}},
                },
            ],
        }
    }
