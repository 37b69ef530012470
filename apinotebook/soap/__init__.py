"""SOAP over zeep: :class:`SoapClient`, WSDL operations with plain-Python signatures."""

from apinotebook.soap._client import (
    SoapClient,
    SoapOperation,
    SoapParam,
    clear_wsdl_cache,
    is_read_only,
    wsdl_cache_info,
)

__all__ = [
    "SoapClient",
    "SoapOperation",
    "SoapParam",
    "clear_wsdl_cache",
    "is_read_only",
    "wsdl_cache_info",
]
