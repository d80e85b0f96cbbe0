from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from notifica.protocol import (
    ABROAD,
    ACCEPTED_PROVINCE_CODES,
    POPULATION_YEAR,
    PROVINCES,
    Province,
    is_accepted_province_code,
    is_province_code,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_provinces.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_provinces", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_provinces", module)
    spec.loader.exec_module(module)
    return module


def test_table_has_the_107_provinces_and_istat_total() -> None:
    # docs/data/italy-provinces/README.md: 107 units, 59,641,488 residents on 1 January 2020.
    assert len(PROVINCES) == 107
    assert sum(p.population for p in PROVINCES.values()) == 59_641_488
    assert POPULATION_YEAR == 2020
    assert list(PROVINCES) == sorted(PROVINCES)
    assert len({p.region for p in PROVINCES.values()}) == 20


def test_known_rows() -> None:
    assert PROVINCES["RM"] == Province(code="RM", name="Roma", region="Lazio", population=4_253_314)
    assert PROVINCES["AO"].name == PROVINCES["AO"].region == "Valle d'Aosta/Vallée d'Aoste"
    assert {"CA", "NU", "OR", "SS", "SU"} <= set(PROVINCES)  # Sardinia after 2016
    assert not {"CI", "VS", "OG", "OT"} & set(PROVINCES)  # 2005-2016 Sardinian provinces


def test_abroad_is_accepted_but_is_not_a_province() -> None:
    assert ABROAD == "EX"
    assert ABROAD not in PROVINCES
    assert not is_province_code(ABROAD)
    assert is_accepted_province_code(ABROAD)
    assert set(PROVINCES) | {"EX"} == ACCEPTED_PROVINCE_CODES
    assert len(ACCEPTED_PROVINCE_CODES) == 108


@pytest.mark.parametrize("code", ["rm", "Rm", "XX", "", "RMX", " RM", "CI"])
def test_unknown_or_miscased_codes_are_rejected(code: str) -> None:
    assert not is_province_code(code)
    assert not is_accepted_province_code(code)


def test_region_totals_match_istat() -> None:
    by_region = Counter[str]()
    for province in PROVINCES.values():
        by_region[province.region] += province.population
    assert by_region["Valle d'Aosta/Vallée d'Aoste"] == 125_034
    assert by_region["Trentino-Alto Adige/Südtirol"] == 532_644 + 545_425  # BZ + TN


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        PROVINCES["XX"] = PROVINCES["RM"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "rm"}, "two upper-case letters"),
        ({"code": "EX"}, "means abroad"),
        ({"population": -1}, "must not be negative"),
    ],
)
def test_province_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"code": "ZZ", "name": "n", "region": "r", "population": 1}
    with pytest.raises(ValueError, match=message):
        Province(**(fields | kwargs))  # type: ignore[arg-type]


def test_module_matches_its_source_csv(generator: ModuleType) -> None:
    assert generator.main(["--check"]) == 0


def test_generator_renders_exactly_the_csv_rows(generator: ModuleType) -> None:
    rows, year = generator.read_rows(generator.CSV_PATH.read_text(encoding="utf-8"))
    assert year == POPULATION_YEAR
    assert [(p.code, p.name, p.region, p.population) for p in PROVINCES.values()] == rows


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("code,name\n", "header is"),
        ("code,name,region,population,population_year\nRM,Roma,Lazio,1\n", "4 fields"),
        ("code,name,region,population,population_year\nrm,Roma,Lazio,1,2020\n", "'rm'"),
        ("code,name,region,population,population_year\nRM,Roma,Lazio,-5,2020\n", "'-5'"),
        ("code,name,region,population,population_year\nRM,,Lazio,5,2020\n", "empty name"),
        (
            "code,name,region,population,population_year\nRM,Roma,Lazio,1,2020\nRM,R,L,1,2020\n",
            "duplicate",
        ),
        (
            "code,name,region,population,population_year\nRM,Roma,Lazio,1,2020\nMI,M,L,1,2021\n",
            "one population year",
        ),
    ],
)
def test_generator_rejects_a_malformed_csv(
    generator: ModuleType, csv_text: str, message: str
) -> None:
    with pytest.raises(generator.SourceError, match=message):
        generator.read_rows(csv_text)


def test_generator_check_fails_on_a_stale_table(
    generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = generator.CSV_PATH.read_text(encoding="utf-8")
    changed = tmp_path / "provinces.csv"
    changed.write_text(source.replace("RM,Roma,Lazio,4253314", "RM,Roma,Lazio,4253315"))
    assert generator.main(["--check", "--csv", str(changed)]) == 1
    assert "out of date" in capsys.readouterr().out
