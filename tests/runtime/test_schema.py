"""The exported JSON Schema in docs/ is the one the code enforces."""

from pathlib import Path

from nve.schema import schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "overlay-schema.json"


def test_exported_schema_is_current():
    assert DOCS.read_text(encoding="utf-8") == schema_text(), (
        "run: python -m nve.schema docs/overlay-schema.json"
    )


def test_schema_names_the_top_level_sections():
    import json

    schema = json.loads(schema_text())
    assert set(schema["properties"]) == {
        "version",
        "switches",
        "tenants",
        "endpoints",
        "remote_nves",
        "routes",
    }
    assert schema["additionalProperties"] is False
