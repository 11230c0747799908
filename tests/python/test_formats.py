import pytest

from metanprom.ingest.formats import FORMATS, ExtractHeaderError, check_header

BANK_SCROOGE, BANK_DATASET = FORMATS["bank_scrooge"], FORMATS["bank_dataset"]


def test_each_header_is_recognised() -> None:
    assert check_header("x.csv", list(BANK_SCROOGE.header)) is BANK_SCROOGE
    assert check_header("x.csv", list(BANK_DATASET.header)) is BANK_DATASET


def test_a_foreign_header_names_file_missing_and_unexpected_columns() -> None:
    columns = [c for c in BANK_SCROOGE.header if c != "churn"] + ["extra"]
    with pytest.raises(ExtractHeaderError) as error:
        check_header("/data/x.csv", columns, "bank_scrooge")
    message = str(error.value)
    assert "/data/x.csv" in message
    assert "missing columns ['churn']" in message
    assert "unexpected columns ['extra']" in message


def test_same_columns_in_another_order_is_said() -> None:
    columns = list(reversed(BANK_DATASET.header))
    with pytest.raises(ExtractHeaderError, match="different order"):
        check_header("x.csv", columns, "bank_dataset")


def test_each_declared_format_has_a_seed_with_the_same_header_and_types_for_every_column() -> None:
    """`seeds:` in dbt_project.yml cannot read vars: its column_types must name the declared header."""
    import yaml

    from metanprom.settings import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    seeds = project["seeds"]["metanprom"]
    for name, fmt in FORMATS.items():
        assert list(seeds[name]["+column_types"]) == list(fmt.header), name
        with open(PROJECT_DIR / "seeds" / f"{name}.csv", encoding="utf-8") as handle:
            assert handle.readline().strip().split(",") == list(fmt.header), name
        assert set(fmt.canonical.values()) >= {"customer_id", "city", "gender"}, name
        model = PROJECT_DIR / "models" / "staging" / f"stg_{name}__customers.sql"
        assert f"stage_extract('{name}')" in model.read_text(encoding="utf-8"), name
