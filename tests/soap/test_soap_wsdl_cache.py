"""The WSDL parse cache, the large multi-file WSDL, warnings and repr."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from soap_shop import (
    FIXTURES,
    SHOP_WSDL,
    Shop,
)

from apinotebook import (
    SpecError,
)
from apinotebook.soap import (
    SoapClient,
    clear_wsdl_cache,
    wsdl_cache_info,
)

# -- parse cache and the large multi-file WSDL --------------------------------------------------


def test_parse_cache_skips_the_fetch(shop: Shop) -> None:
    first = shop.client()
    assert shop.gets == [SHOP_WSDL, "http://shop.test/wsdl/shop-common.xsd"]
    assert not first.from_cache and first.parse_seconds > 0
    second = shop.client(service="AdminService")
    assert second.from_cache and len(shop.gets) == 2  # no refetch
    assert wsdl_cache_info()["hits"] == 1
    shop.client(strict=False)  # other parse settings: parsed again
    assert len(shop.gets) == 4
    clear_wsdl_cache()
    shop.client()
    assert len(shop.gets) == 6


def test_local_cache_follows_the_file(tmp_path: Path) -> None:
    for p in FIXTURES.glob("shop*"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    assert not SoapClient(tmp_path / "shop.wsdl").from_cache
    assert SoapClient(str(tmp_path / "shop.wsdl")).from_cache
    text = (tmp_path / "shop.wsdl").read_text().replace("Ping", "Pong")
    (tmp_path / "shop.wsdl").write_text(text)
    os.utime(tmp_path / "shop.wsdl", ns=(1, 1))
    changed = SoapClient(tmp_path / "shop.wsdl")
    assert not changed.from_cache and "Pong" in [op.name for op in changed.operations]


def test_large_multi_file_wsdl() -> None:
    root = FIXTURES / "large" / "enterprise.wsdl"
    client = SoapClient(root)
    assert client.services == {
        "OrdersService": ["OrdersSoap", "OrdersSoap12"],
        "InventoryService": ["InventorySoap"],
        "CustomersService": ["CustomersSoap"],
    }
    assert len(client.wsdl_documents) == 11  # 1 + 3 wsdl:import + 7 XSDs (import/include)
    counts = {
        (service, port): len(SoapClient(root, service=service, port=port).operations)
        for service, ports in client.services.items()
        for port in ports
    }
    assert set(counts.values()) == {20} and len(counts) == 4
    update = SoapClient(root, service="InventoryService").operation("UpdateStockLevel")
    assert update.signature() == (
        "UpdateStockLevel(stockLevelId: string, stockLevel: StockLevelInput, "
        "etag: string = None) -> StockLevel"
    )
    status = update.input[1].children[1]  # from common.xsd, through the included records
    assert status.enum == ("ACTIVE", "ARCHIVED", "DRAFT")
    assert update.documentation == "UpdateStockLevel: generated inventory operation."
    assert SoapClient(root, port="OrdersSoap12").soap_version == "1.2"


def test_wsdl_warnings_are_kept(shop: Shop) -> None:
    wsdl = (
        (FIXTURES / "shop.wsdl")
        .read_bytes()
        .replace(
            b'<wsdl:part name="region" type="xsd:string"/>',
            b'<wsdl:part name="region" element="tns:NoSuchElement"/>',
        )
    )
    client = Shop({"shop.wsdl": wsdl}).client(service="AdminService")
    assert any("invalid part ('region')" in w for w in client.wsdl_warnings)
    assert shop.client().from_cache  # a remote WSDL is cached by its URL ...
    clear_wsdl_cache()  # ... until the cache is cleared
    assert shop.client().wsdl_warnings == ()


def test_wsdl_from_bytes_and_repr(shop: Shop) -> None:
    raw = (FIXTURES / "shop.wsdl").read_bytes()
    with pytest.raises(SpecError, match="outside"):  # a relative import has no base to use
        SoapClient(raw, transport=httpx.MockTransport(shop))
    absolute = raw.replace(b'"shop-common.xsd"', b'"http://shop.test/wsdl/shop-common.xsd"')
    with pytest.raises(SpecError, match="outside"):
        SoapClient(absolute, transport=httpx.MockTransport(shop))
    client = SoapClient(absolute, transport=httpx.MockTransport(shop), history=None,
                        trusted_locations=["shop.test"])  # fmt: skip
    assert client.wsdl_location == "<wsdl bytes>"
    assert repr(client) == "<SoapClient ShopService/ShopSoap http://shop.test/soap · 5 operations>"
    with client:
        assert client.call("GetOrder", orderId="O-1").data["id"] == "O-1"
    assert SoapClient(
        absolute.decode(), transport=httpx.MockTransport(shop), trusted_locations=["shop.test"]
    ).from_cache  # text: same content hash
