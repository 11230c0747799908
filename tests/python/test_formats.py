import pytest

from metanprom.ingest.formats import BANK_DATASET, BANK_SCROOGE, ExtractHeaderError, check_header


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
