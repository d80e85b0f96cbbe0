from __future__ import annotations

from pathlib import Path

import pytest

from notifica.sim import Scenario, ScenarioError, default_scenario_text, load_scenario
from notifica.sim._schema import iter_params

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "src/notifica/sim/scenarios/default.toml"


def test_packaged_default_file_is_the_default_scenario() -> None:
    assert load_scenario() == Scenario()


def test_packaged_default_file_is_up_to_date() -> None:
    # Regenerate with: notifica sim scenario --defaults > src/notifica/sim/scenarios/default.toml
    assert default_scenario_text() == Scenario().to_toml()
    assert DEFAULT_TOML.read_text("utf-8") == Scenario().to_toml()


def test_every_parameter_has_a_meaning_and_a_source() -> None:
    params = list(iter_params(Scenario))
    assert len(params) > 100
    for key, field in params:
        assert field.metadata["doc"], key
        assert field.metadata["source"], key


def test_dimensional_parameters_are_written_with_units() -> None:
    text = Scenario().to_toml()
    assert 'max_distance = "2 m"' in text
    assert 'min_duration = "900 s"' in text
    assert 'detection_period = "14400 s"' in text
    assert 'window_start = "18:00"' in text


def test_a_file_needs_only_the_keys_it_changes() -> None:
    scenario = Scenario.from_toml(
        '[adoption]\noverall = 0.5\n[ground_truth]\nmax_distance = "150 cm"\n'
    )
    assert scenario.adoption.overall == 0.5
    assert scenario.ground_truth.max_distance_m == 1.5
    assert scenario.run == Scenario().run


def test_to_dict_round_trips() -> None:
    scenario = Scenario().with_values(
        {"run.population": 1234, "contacts.shop.stay_median": "20 min"}
    )
    assert Scenario.from_dict(scenario.to_dict()) == scenario
    assert scenario.contacts.shop.stay_median_s == 1200.0


@pytest.mark.parametrize(
    ("toml", "key", "fragment"),
    [
        ("[adoption]\noveral = 0.2\n", "adoption.overal", "unknown key"),
        ("[adoptions]\noverall = 0.2\n", "adoptions", "unknown key"),
        ("[adoption]\noverall = 1.5\n", "adoption.overall", "must be ≤ 1, got 1.5"),
        ("[adoption]\noverall = -0.1\n", "adoption.overall", "must be ≥ 0"),
        ('[adoption]\noverall = "high"\n', "adoption.overall", "expected a number"),
        (
            '[epidemic]\ntransmission_rate = "-0.001 /min"\n',
            "epidemic.transmission_rate",
            "must be ≥ 0",
        ),
        ("[testing]\nsensitivity = 1.2\n", "testing.sensitivity", "must be ≤ 1"),
        (
            '[ground_truth]\nmax_distance = "15 min"\n',
            "ground_truth.max_distance",
            "is a time; expected a length",
        ),
        ("[ground_truth]\nmax_distance = 2\n", "ground_truth.max_distance", "expected a length"),
        (
            '[ground_truth]\nmin_duration = "15 minutes"\n',
            "ground_truth.min_duration",
            "unknown unit",
        ),
        ("[run]\ndays = 2.5\n", "run.days", "whole number"),
        ("[run]\ndays = 0\n", "run.days", "must be ≥ 1"),
        ("[run]\npopulation = 1_000_000_000_000\n", "run.population", "must be ≤"),
        ('[run]\nstart_date = "yesterday"\n', "run.start_date", "expected a date"),
        ("[run]\nprovinces = { BO = 0.5, MI = 0.4 }\n", "run.provinces", "sum to 1"),
        ("[run]\nprovinces = { XX = 1.0 }\n", "run.provinces.XX", "unknown province"),
        ("[run]\nprovinces = { BO = -1.0, MI = 2.0 }\n", "run.provinces", "must be > 0"),
        ("[run]\ninitial_infections = 6000\n", "run.initial_infections", "must not exceed"),
        ('[app]\nrisk_rule = "swiss"\n', "app.risk_rule", "must be one of"),
        ("[app]\ndummy_traffic = 1\n", "app.dummy_traffic", "true or false"),
        (
            '[scanning]\ninterval_min = "400 s"\n',
            "scanning.interval_min",
            "must not exceed interval_max",
        ),
        ('[contacts.household]\nwindow_start = "22:00"\n', "contacts.household.window", "by 24:00"),
        ("[contacts.household]\npresence = 2\n", "contacts.household.presence", "must be ≤ 1"),
        ("[radio.carriage.bag]\nshare = 0.5\n", "radio.carriage.front_pocket.share", "sum to 1"),
        ("[radio.environments.lab]\nslope_near = 1\n", "radio.environments.lab", "unknown key"),
        (
            "[population]\nhousehold_size_shares = [0.5, 0.5]\n",
            "population.household_size_shares",
            "6 values",
        ),
        (
            "[population]\nage_distribution = [1, 2, 3.5, 4, 5, 6, 7, 8, 9, 10]\n",
            "population.age_distribution",
            "whole numbers",
        ),
        ("adoption = 3\n", "adoption", "expected a table"),
    ],
)
def test_invalid_values_name_their_key(toml: str, key: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(toml, source="town.toml")
    assert caught.value.key == key
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"town.toml: {key}: ")


def test_invalid_toml_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.from_toml("[run\nseed = 1")


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read") as caught:
        load_scenario(tmp_path / "nope.toml")
    assert caught.value.source == str(tmp_path / "nope.toml")


def test_with_values_checks_like_a_file() -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario().with_values({"adoption.overall": 1.5})
    assert caught.value.key == "adoption.overall"
    with pytest.raises(ScenarioError, match="unknown key"):
        Scenario().with_values({"run.populaton": 10})
    with pytest.raises(ScenarioError, match="unknown key"):
        Scenario().with_values({"nowhere.at.all": 10})


def test_scenario_is_frozen() -> None:
    scenario = Scenario()
    with pytest.raises(AttributeError):
        scenario.run = scenario.run  # type: ignore[misc]


def test_describe_lists_every_parameter_with_its_value() -> None:
    rows = {row.key: row for row in Scenario().describe()}
    assert rows["ground_truth.max_distance"].value == "2 m"
    assert rows["ground_truth.max_distance"].unit == "m"
    assert rows["run.provinces"].value == {"BO": 1.0}
    assert "ECDC" in rows["ground_truth.max_distance"].source


def test_a_partial_nested_table_keeps_the_other_defaults_of_that_table() -> None:
    scenario = Scenario.from_toml("[contacts.household]\npresence = 0.5\n")
    expected = Scenario().contacts.household
    household = scenario.contacts.household
    assert household.presence == 0.5
    assert (household.environment, household.window_s, household.transmission_factor) == (
        expected.environment,
        expected.window_s,
        expected.transmission_factor,
    )


def test_not_a_number_is_refused() -> None:
    with pytest.raises(ScenarioError, match="NaN") as caught:
        Scenario.from_toml("[contacts.community]\ndaily_contacts = nan\n")
    assert caught.value.key == "contacts.community.daily_contacts"


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    from notifica.sim.scenario import MAX_SCENARIO_BYTES

    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * (MAX_SCENARIO_BYTES // 10 + 1))
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(big)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[run]\nseed = 1 # \xff\xfe\n")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(bad)
