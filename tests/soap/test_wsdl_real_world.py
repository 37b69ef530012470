"""WSDL constructs real vendors publish, which once crashed or refused the client.

Each case is a small WSDL written to tmp_path in the shape found in the real-world
corpus (tests/corpus): ONVIF's anyAttribute types, its ../ imports between sibling
folders, and its services that declare no port (only a binding).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apinotebook import SoapClient, SpecError

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:t="urn:types" xmlns:tns="urn:svc" targetNamespace="urn:svc">
"""
TYPES_INLINE = """
  <wsdl:types>
    <xsd:schema targetNamespace="urn:types" elementFormDefault="qualified">
      <xsd:complexType name="Config">
        <xsd:sequence><xsd:element name="token" type="xsd:string"/></xsd:sequence>
        <xsd:anyAttribute processContents="lax"/>
      </xsd:complexType>
      <xsd:element name="Get"><xsd:complexType><xsd:sequence>
        <xsd:element name="config" type="t:Config"/>
      </xsd:sequence><xsd:anyAttribute/></xsd:complexType></xsd:element>
      <xsd:element name="GetResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="ok" type="xsd:boolean"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
"""
MESSAGES = """
  <wsdl:message name="GetIn"><wsdl:part name="p" element="t:Get"/></wsdl:message>
  <wsdl:message name="GetOut"><wsdl:part name="p" element="t:GetResponse"/></wsdl:message>
  <wsdl:portType name="PT"><wsdl:operation name="Get">
    <wsdl:input message="tns:GetIn"/><wsdl:output message="tns:GetOut"/>
  </wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:PT">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="Get"><soap:operation soapAction="urn:Get"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
"""
SERVICE = """
  <wsdl:service name="S"><wsdl:port name="P" binding="tns:B">
    <soap:address location="http://127.0.0.1:9/svc"/>
  </wsdl:port></wsdl:service>
</wsdl:definitions>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_any_attribute_is_a_parameter_not_a_crash(tmp_path):
    wsdl = write(tmp_path / "svc.wsdl", HEAD + TYPES_INLINE + MESSAGES + SERVICE)
    client = SoapClient(str(wsdl))
    (op,) = client.operations
    assert op.signature().startswith("Get(config: Config")
    kinds = {p.name: p.kind for p in op.input}
    assert "any" in kinds.values()  # the element's own anyAttribute
    config = next(p for p in op.input if p.name == "config")
    assert [c.kind for c in config.children] == ["element", "any"]
    envelope = client.build_envelope("Get", config={"token": "t-1"})
    assert "<ns0:token>t-1</ns0:token>" in envelope or ">t-1<" in envelope


def _family(tmp_path: Path, location: str) -> Path:
    """ONVIF's layout: ver10/svc/wsdl/svc.wsdl imports ../../schema/types.xsd."""
    write(
        tmp_path / "ver10" / "schema" / "types.xsd",
        TYPES_INLINE.replace("<wsdl:types>", "")
        .replace("</wsdl:types>", "")
        .replace(
            "<xsd:schema ",
            '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:types" ',
        ),
    )
    types = f"""
  <wsdl:types><xsd:schema targetNamespace="urn:svc">
    <xsd:import namespace="urn:types" schemaLocation="{location}"/>
  </xsd:schema></wsdl:types>
"""
    return write(
        tmp_path / "ver10" / "svc" / "wsdl" / "svc.wsdl", HEAD + types + MESSAGES + SERVICE
    )


def test_a_schema_in_a_sibling_folder_is_imported(tmp_path):
    client = SoapClient(str(_family(tmp_path, "../../schema/types.xsd")))
    assert [op.name for op in client.operations] == ["Get"]


def test_a_suffixless_schema_up_the_tree_is_imported(tmp_path):
    # ONVIF's onvif.xsd imports ../../xmlmime (no suffix) from ver10/schema
    _family(tmp_path, "../../schema/types.xsd")
    (tmp_path / "ver10" / "schema" / "types.xsd").rename(tmp_path / "types")
    client = SoapClient(str(_family(tmp_path, "../../../types")))
    assert [op.name for op in client.operations] == ["Get"]


def test_files_that_are_not_schemas_are_refused_without_quoting_them(tmp_path):
    write(tmp_path / "ver10" / "notes.txt", "name,password\nada,hunter2-secret\n")
    with pytest.raises(SpecError, match="not well-formed|not a WSDL 1.1 or XSD") as info:
        SoapClient(str(_family(tmp_path, "../../notes.txt")))
    assert "hunter2" not in str(info.value)


def test_devices_are_never_read(tmp_path):
    with pytest.raises(SpecError, match="outside its own directory"):
        SoapClient(str(_family(tmp_path, "/dev/zero")))


def test_a_service_without_ports_falls_back_to_its_binding(tmp_path):
    portless = '  <wsdl:service name="S"/>\n</wsdl:definitions>\n'
    wsdl = write(tmp_path / "svc.wsdl", HEAD + TYPES_INLINE + MESSAGES + portless)
    client = SoapClient(str(wsdl), address="http://127.0.0.1:9/svc")
    assert [op.name for op in client.operations] == ["Get"]
    assert "Envelope" in client.build_envelope("Get", config={"token": "x"})
