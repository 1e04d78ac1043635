"""The dashboard's API and pages over FastAPI's TestClient: members only, clear 4xx, nothing from other hosts; every API
model carries every field of the proto message it serves."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from dashboard_releases import PRIVATE_EPSILON, private_release
from fastapi.testclient import TestClient
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from pydantic import BaseModel, create_model

from common import figures
from fleetbench.cli import main, parser
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.dashboard import api
from server.dashboard.api import ADDED_BY_API, FOLLOWS_PROTO
from server.dashboard.app import SESSION_COOKIE, create_app
from server.dashboard.releases import ReleaseStore, StoreError
from server.dashboard.tokens import MemberTokens, TokenFileError, create_token, read_tokens, revoke_token

COHORT = "E-82/2300"
API_PATHS = {
    "/api/releases",
    "/api/releases/{release_id}",
    "/api/releases/{release_id}/curve",
    "/api/releases/{release_id}/solar-curve",
    "/api/releases/{release_id}/distributions",
    "/api/releases/{release_id}/monthly",
    "/api/releases/{release_id}/models",
    "/api/releases/{release_id}/failure-rates",
    "/api/releases/{release_id}/lost-production",
    "/api/releases/{release_id}/solar-failure-rates",
    "/api/trends/curve",
    "/api/trends/solar-curve",
    "/api/trends/distribution",
    "/api/releases/{release_id}/charts/{chart}",
    "/api/trends/charts/{chart}",
}
GOOD_REQUESTS = [
    "/api/releases",
    "/api/releases/1",
    f"/api/releases/2/curve?cohort={COHORT}",
    "/api/releases/2/distributions",
    "/api/releases/2/monthly",
    "/api/releases/2/models",
    "/api/releases/2/failure-rates",
    "/api/releases/2/lost-production",
    f"/api/trends/curve?cohort={COHORT}",
    f"/api/trends/distribution?cohort={COHORT}&indicator=yaw_misalignment",
    f"/api/releases/2/charts/power-curve?cohort={COHORT}&format=csv",
    f"/api/trends/charts/curve-trend?cohort={COHORT}&format=json",
    "/openapi.json",
]
PAGES = [
    "/",
    "/releases/1",
    f"/releases/2/cohort?name={COHORT}",
    "/releases/2/cohort?name=1500-3000%20kW",
    f"/trends?cohort={COHORT}",
    "/api-docs",
]


SAME_ORIGIN = {"Origin": "http://testserver"}  # what a browser sends with the login page's form


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(dashboard) -> TestClient:
    return TestClient(dashboard.app, follow_redirects=False)


@pytest.mark.parametrize("path", GOOD_REQUESTS)
def test_every_endpoint_answers_a_member_and_refuses_missing_or_bad_tokens(dashboard, client, path):
    assert client.get(path, headers=bearer(dashboard.token)).status_code == 200
    token_id = dashboard.token.split("_")[1]
    for headers in (
        {},
        bearer(""),
        bearer("not-a-token"),
        bearer(f"fbt_{token_id}_wrong-secret"),  # a real token id with a guessed secret
        bearer(dashboard.token[:-1]),
        {"Authorization": f"Basic {dashboard.token}"},
    ):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 401, (path, headers)
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "valid member token" in refused.json()["detail"]


def test_release_list_and_detail_match_the_store(dashboard, client):
    made, headers = dashboard.made, bearer(dashboard.token)
    listed = client.get("/api/releases", headers=headers).json()
    assert [r["release_id"] for r in listed] == [1, 2]
    assert [r["period_start"] for r in listed] == [r.period.start for r in made.releases]
    assert [r["suppressed_cells"] for r in listed] == [r.provenance.suppressed_cells for r in made.releases]
    detail = client.get("/api/releases/2", headers=headers).json()
    release = made.releases[1]
    assert detail["provenance"]["participants"] == release.provenance.participants == 3
    assert detail["provenance"]["spec_sha256"] == release.provenance.spec_sha256
    # Every top-level field not shown in its own section is a setting: a new field (privacy) shows by itself.
    assert detail["settings"]["k_min_operators"] == 3
    assert detail["settings"]["dominance_max_share"] == release.dominance_max_share
    assert [f["name"] for f in detail["settings"]["filters"]] == [f.name for f in release.filters]
    cohorts = {c["cohort"]: c for c in detail["cohorts"]}
    curve = next(c for c in release.curves if c.cohort == COHORT)
    assert cohorts[COHORT]["bins_suppressed"] == sum(b.suppressed for b in curve.bins) > 0
    assert cohorts[COHORT]["bins_released"] == sum(not b.suppressed for b in curve.bins) > 10
    assert "performance_index" in detail["indicators"]


def test_curve_carries_every_bin_with_suppressed_ones_empty(dashboard, client):
    got = client.get(f"/api/releases/1/curve?cohort={COHORT}", headers=bearer(dashboard.token)).json()
    curve = next(c for c in dashboard.made.releases[0].curves if c.cohort == COHORT)
    assert len(got["bins"]) == len(curve.bins)
    for out, cell in zip(got["bins"], curve.bins, strict=True):
        assert out["suppressed"] == cell.suppressed and out["wind_speed_centre"] == cell.wind_speed_centre
        if cell.suppressed:
            assert out["suppression_reason"] and out["mean_power"] is None and out["record_count"] is None
        else:
            assert out["record_count"] == cell.record_count and out["mean_power"] == cell.mean_power
            assert out["p10_normalised_power"] <= out["p50_normalised_power"] <= out["p90_normalised_power"]
    assert got["completeness"]["hours"] == curve.completeness.hours
    assert [a["mean_wind_speed"] for a in got["aep"]] == [a.mean_wind_speed for a in curve.aep]


def test_distributions_models_failures_and_losses_filter_by_cohort(dashboard, client):
    headers, release = bearer(dashboard.token), dashboard.made.releases[1]
    everything = client.get("/api/releases/2/distributions", headers=headers).json()
    assert len(everything) == len(release.distributions)
    yaw = client.get(f"/api/releases/2/distributions?cohort={COHORT}&indicator=yaw_misalignment", headers=headers)
    (only,) = yaw.json()
    expected = next(d for d in release.distributions if (d.cohort, d.indicator) == (COHORT, "yaw_misalignment"))
    assert only["counts"] == list(expected.counts) and only["p50"] == expected.p50
    models = client.get(f"/api/releases/2/models?cohort={COHORT}", headers=headers).json()
    assert {m["target"] for m in models} == {m.target for m in release.models if m.cohort == COHORT}
    rates = client.get(f"/api/releases/2/failure-rates?cohort={COHORT}", headers=headers).json()
    assert len(rates) == sum(r.cohort == COHORT for r in release.failure_rates) > 0
    losses = client.get(f"/api/releases/2/lost-production?cohort={COHORT}", headers=headers).json()
    assert [x["category"] for x in losses] == [x.category for x in release.lost_production if x.cohort == COHORT]


def test_trends_follow_the_periods(dashboard, client):
    headers = bearer(dashboard.token)
    curves = client.get(f"/api/trends/curve?cohort={COHORT}", headers=headers).json()
    assert [p["release"]["period_start"] for p in curves] == ["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]
    assert [len(p["curve"]["bins"]) for p in curves] == [
        len(next(c for c in r.curves if c.cohort == COHORT).bins) for r in dashboard.made.releases
    ]
    points = client.get(f"/api/trends/distribution?cohort={COHORT}", headers=headers).json()
    assert [p["distribution"]["indicator"] for p in points] == ["performance_index"] * 2
    assert [p["distribution"]["p50"] for p in points] == [
        next(d for d in r.distributions if (d.cohort, d.indicator) == (COHORT, "performance_index")).p50
        for r in dashboard.made.releases
    ]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/releases/99", 404, "no release 99 in the store; releases: [1, 2]"),
        (f"/api/releases/99/curve?cohort={COHORT}", 404, "no release 99"),
        ("/api/releases/1/curve?cohort=V164", 404, "release 1 has no cohort 'V164'; cohorts: ['E-82/2300'"),
        ("/api/releases/1/distributions?indicator=vibration", 404, "no indicator 'vibration'"),
        ("/api/releases/1/models?cohort=V164", 404, "no cohort 'V164'"),
        ("/api/trends/curve?cohort=V164", 404, "no release has a cohort 'V164'"),
        (f"/api/trends/distribution?cohort={COHORT}&indicator=vibration", 404, "no release has a distribution"),
        ("/api/releases/first", 422, "release_id"),
        ("/api/releases/1/curve", 422, "cohort"),
        ("/api/trends/curve?cohort=", 422, "cohort"),
    ],
)
def test_unknown_releases_and_bad_parameters_get_a_clear_4xx(dashboard, client, path, status, says):
    response = client.get(path, headers=bearer(dashboard.token))
    assert response.status_code == status
    assert says in json.dumps(response.json()["detail"])


def test_pages_say_not_found_in_html(dashboard, client):
    response = client.get("/releases/99", headers=bearer(dashboard.token))
    assert response.status_code == 404 and "no release 99 in the store" in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert client.get("/docs", headers=bearer(dashboard.token)).status_code == 404  # Swagger UI (a CDN): off


def test_openapi_schema_documents_every_endpoint_with_bearer_auth(dashboard, client):
    assert client.get("/openapi.json").status_code == 401
    schema = client.get("/openapi.json", headers=bearer(dashboard.token)).json()
    assert set(schema["paths"]) == API_PATHS
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    curve = schema["paths"]["/api/releases/{release_id}/curve"]["get"]
    assert curve["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("CohortCurveOut")
    assert {"401", "404", "422"} <= set(curve["responses"])
    assert "PowerCurveBinOut" in schema["components"]["schemas"]
    for model, message in FOLLOWS_PROTO.items():  # every field of every served message, documented
        documented = schema["components"]["schemas"][model.__name__]
        assert documented["description"]
        fields = {f.name for f in message.DESCRIPTOR.fields} | ADDED_BY_API.get(model, frozenset())
        assert set(documented["properties"]) == fields, model.__name__
    docs = client.get("/api-docs", headers=bearer(dashboard.token)).text
    assert all(path in docs for path in API_PATHS)


JSON_TYPES: dict[int, type] = {
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_FLOAT: float,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BYTES: str,  # base64 in the JSON mapping
    FieldDescriptor.TYPE_ENUM: str,  # the value's name in the JSON mapping
    **dict.fromkeys(
        (
            FieldDescriptor.TYPE_INT32,
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_UINT32,
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_SINT32,
            FieldDescriptor.TYPE_SINT64,
            FieldDescriptor.TYPE_FIXED32,
            FieldDescriptor.TYPE_FIXED64,
            FieldDescriptor.TYPE_SFIXED32,
            FieldDescriptor.TYPE_SFIXED64,
        ),
        int,
    ),
}
"""Proto scalar type -> the type of its value in an API model."""


def shown(annotation: object) -> str:
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation).replace(f"{api.__name__}.", "")


def api_type(field: FieldDescriptor, models: dict[str, type[BaseModel]]) -> object:
    """The annotation an API model gives ``field`` (None when no API model follows its message type)."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = (api_type(field.message_type.fields_by_name[n], models) for n in ("key", "value"))
        return None if value is None else dict[key, value]
    single = JSON_TYPES[field.type] if field.message_type is None else models.get(field.message_type.full_name)
    if single is None:
        return None
    if field.is_repeated:
        return list[single]
    return single | None if field.has_presence else single


def divergences(model: type[BaseModel], message: Descriptor) -> list[str]:
    """Every way ``model`` differs from the proto ``message`` it serves, each naming the field."""
    models = {m.DESCRIPTOR.full_name: api_model for api_model, m in FOLLOWS_PROTO.items()}
    # A test-local subclass of an API model may add what the model adds.
    added = next((names for m, names in ADDED_BY_API.items() if issubclass(model, m)), frozenset())
    fields, problems = model.model_fields, []
    for field in message.fields:
        proto = f"{message.full_name}.{field.name}"
        expected = api_type(field, models)
        if expected is None:
            problems.append(f"{proto}: no API model follows {field.message_type.full_name} (add it to FOLLOWS_PROTO)")
            continue
        wanted = f"`{field.name}: {shown(expected)}{' = None' if field.has_presence else ''}`"
        if field.name not in fields:
            problems.append(f"{model.__name__} lacks {proto}: add {wanted}")
            continue
        got = fields[field.name]
        defaulted = got.default is None and not got.is_required() if field.has_presence else got.is_required()
        if got.annotation != expected or not defaulted:
            has = f"{shown(got.annotation)}{'' if got.is_required() else f' = {got.default!r}'}"
            problems.append(f"{model.__name__}.{field.name} is `{has}`, but {proto} needs {wanted}")
    for name in sorted(fields.keys() - {f.name for f in message.fields} - added):
        problems.append(f"{model.__name__}.{name} is in neither {message.full_name} nor ADDED_BY_API")
    problems += [
        f"ADDED_BY_API names {model.__name__}.{name}, which it lacks" for name in sorted(added - fields.keys())
    ]
    return problems


@pytest.mark.parametrize("model", FOLLOWS_PROTO, ids=lambda model: model.__name__)
def test_each_api_model_has_every_field_of_its_proto_message_and_no_other(model):
    problems = divergences(model, FOLLOWS_PROTO[model].DESCRIPTOR)
    assert not problems, "\n".join(problems)


def with_one_more_field(message: str, field: descriptor_pb2.FieldDescriptorProto) -> Descriptor:
    """Message ``message`` of release.proto or spec.proto with ``field`` added, in a descriptor pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    for module in (spec_pb2, release_pb2):
        file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file)
        for declared in file.message_type:
            if declared.name == message:
                new = declared.field.add()
                new.CopyFrom(field)
                if new.proto3_optional:  # protoc declares a synthetic oneof for each proto3 optional field
                    declared.oneof_decl.add(name=f"_{new.name}")
                    new.oneof_index = len(declared.oneof_decl) - 1
        pool.AddSerializedFile(file.SerializeToString())
    return pool.FindMessageTypeByName(f"fleetbench.v1.{message}")


FieldProto = descriptor_pb2.FieldDescriptorProto


@pytest.mark.parametrize(
    ("model", "field", "says"),
    [
        (
            api.PowerCurveBinOut,
            FieldProto(name="p75_normalised_power", number=19, type=FieldProto.TYPE_DOUBLE, proto3_optional=True),
            "PowerCurveBinOut lacks fleetbench.v1.PowerCurveBin.p75_normalised_power:"
            " add `p75_normalised_power: float | None = None`",
        ),
        (
            api.ModelOut,
            FieldProto(name="feature_units", number=11, type=FieldProto.TYPE_STRING, label=FieldProto.LABEL_REPEATED),
            "ModelOut lacks fleetbench.v1.NormalBehaviourModelFit.feature_units: add `feature_units: list[str]`",
        ),
        (
            api.CohortCurveOut,
            FieldProto(name="rated_power_kw", number=99, type=FieldProto.TYPE_UINT32),
            "CohortCurveOut lacks fleetbench.v1.CohortCurve.rated_power_kw: add `rated_power_kw: int`",
        ),
        (
            api.CohortCurveOut,
            FieldProto(
                name="reference_aep", number=99, type=FieldProto.TYPE_MESSAGE, type_name=".fleetbench.v1.AnnualEnergy"
            ),
            "CohortCurveOut lacks fleetbench.v1.CohortCurve.reference_aep:"
            " add `reference_aep: AnnualEnergyOut | None = None`",
        ),
        (
            api.DistributionOut,
            FieldProto(name="period", number=99, type=FieldProto.TYPE_MESSAGE, type_name=".fleetbench.v1.Period"),
            "fleetbench.v1.Distribution.period: no API model follows fleetbench.v1.Period (add it to FOLLOWS_PROTO)",
        ),
    ],
    ids=["optional", "repeated", "scalar", "message", "message-without-model"],
)
def test_a_field_added_to_a_proto_message_but_not_to_its_api_model_is_named(model, field, says):
    assert divergences(model, FOLLOWS_PROTO[model].DESCRIPTOR) == []
    assert divergences(model, with_one_more_field(FOLLOWS_PROTO[model].DESCRIPTOR.name, field)) == [says]


def test_map_fields_would_be_dicts_keyed_as_their_proto_map():
    privacy = release_pb2.PrivacyParameters.DESCRIPTOR.fields_by_name
    assert api_type(privacy["cell_noise_stddev"], {}) == dict[str, float]
    assert api_type(privacy["operator_epsilon"], {}) == dict[int, float]


class CountAsFloat(api.BinGridOut):
    count: float


class RequiredP50(api.DistributionOut):
    p50: float


class NotNullable(api.CohortCurveOut):
    completeness: api.CompletenessOut


class ZeroFailures(api.FailureRateOut):
    failures: int | None = 0


class WithRetiredField(api.LostProductionOut):
    share_of_actual: float | None = None


WithoutMeanPower = create_model(
    "WithoutMeanPower",
    **{name: (f.annotation, f) for name, f in api.PowerCurveBinOut.model_fields.items() if name != "mean_power"},
)


@pytest.mark.parametrize(
    ("model", "message", "says"),
    [
        (
            CountAsFloat,
            spec_pb2.BinGrid,
            "CountAsFloat.count is `float`, but fleetbench.v1.BinGrid.count needs `count: int`",
        ),
        (
            RequiredP50,
            release_pb2.Distribution,
            "RequiredP50.p50 is `float`, but fleetbench.v1.Distribution.p50 needs `p50: float | None = None`",
        ),
        (
            NotNullable,
            release_pb2.CohortCurve,
            "NotNullable.completeness is `CompletenessOut`, but fleetbench.v1.CohortCurve.completeness needs"
            " `completeness: CompletenessOut | None = None`",
        ),
        (
            ZeroFailures,
            release_pb2.FailureRate,
            "ZeroFailures.failures is `int | None = 0`, but fleetbench.v1.FailureRate.failures needs"
            " `failures: int | None = None`",
        ),
        (
            WithRetiredField,
            release_pb2.LostProduction,
            "WithRetiredField.share_of_actual is in neither fleetbench.v1.LostProduction nor ADDED_BY_API",
        ),
        (
            WithoutMeanPower,
            release_pb2.PowerCurveBin,
            "WithoutMeanPower lacks fleetbench.v1.PowerCurveBin.mean_power: add `mean_power: float | None = None`",
        ),
    ],
    ids=["type", "required", "not-nullable", "not-null-default", "not-in-proto", "removed"],
)
def test_an_api_model_typed_otherwise_than_its_proto_message_is_named(model, message, says):
    assert divergences(model, message.DESCRIPTOR) == [says]


EXTERNAL = re.compile(r"(?:https?:)?//([A-Za-z0-9.\-\[\]:]+)")


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_members_only_and_load_nothing_from_other_hosts(dashboard, client, path):
    refused = client.get(path)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next=")
    page = client.get(path, headers=bearer(dashboard.token))
    assert page.status_code == 200 and "north-wind" in page.text
    hosts = set(EXTERNAL.findall(page.text))
    assert hosts <= {"testserver"}, hosts
    assert "/static/plotly.min.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_the_cohort_page_marks_suppressed_bins(dashboard, client):
    page = client.get(f"/releases/1/cohort?name={COHORT}", headers=bearer(dashboard.token)).text
    curve = next(c for c in dashboard.made.releases[0].curves if c.cohort == COHORT)
    withheld = [b for b in curve.bins if b.suppressed]
    table = page.split('id="suppressed-bins"')[1].split("</table>")[0]
    assert table.count('<tr class="suppressed">') == len(withheld) > 0
    assert withheld[0].suppression_reason in table


def test_only_the_login_page_and_its_style_answer_without_a_token(client):
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    for path in ("/static/plotly.min.js", "/static/charts.js", "/no-such-page"):
        assert client.get(path).status_code == 303
    assert client.get("/api/no-such-endpoint").status_code == 401


def test_login_sets_a_session_cookie_not_the_token_and_logout_ends_it(dashboard, client):
    failed = client.post("/login", data={"token": dashboard.token + "x", "next": "/releases/1"}, headers=SAME_ORIGIN)
    assert failed.status_code == 303 and failed.headers["location"].startswith("/login?failed=true")
    assert SESSION_COOKIE not in failed.cookies
    login = client.post("/login", data={"token": dashboard.token, "next": "/releases/1"}, headers=SAME_ORIGIN)
    assert login.status_code == 303 and login.headers["location"] == "/releases/1"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    session = login.cookies[SESSION_COOKIE]
    # The secret is all after the id: token_urlsafe may start it with "_" (split("_")[2] would then be "").
    secret = dashboard.token.split("_", 2)[2]
    assert dashboard.token not in cookie and secret and secret not in session
    assert client.get("/releases/1").status_code == 200
    assert client.get("/api/releases").status_code == 200
    client.post("/logout")
    client.cookies.set(SESSION_COOKIE, session)  # the old session id is no longer any good
    assert client.get("/releases/1").status_code == 303
    # After login, a "next" pointing to another host is not followed.
    away = client.post("/login", data={"token": dashboard.token, "next": "//evil.example/"}, headers=SAME_ORIGIN)
    assert away.headers["location"] == "/"


def test_a_revoked_token_and_its_sessions_are_refused(dashboard, client):
    client.post("/login", data={"token": dashboard.token, "next": "/"}, headers=SAME_ORIGIN)
    assert client.get("/").status_code == 200
    revoke_token(dashboard.tokens, "north-wind")
    assert client.get("/").status_code == 303
    assert client.get("/api/releases", headers=bearer(dashboard.token)).status_code == 401


def test_tokens_are_stored_salted_and_hashed_never_in_clear(tmp_path: Path):
    path = tmp_path / "tokens.json"
    first, second = create_token(path, "north"), create_token(path, "south")
    text = path.read_text()
    for token in (first, second):
        assert token not in text and token.split("_", 2)[2] not in text
    stored = read_tokens(path)
    assert len({t.salt for t in stored}) == 2 and len({t.hash for t in stored}) == 2
    secret = first.split("_", 2)[2]
    assert (
        stored[0].hash
        == hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(stored[0].salt), n=stored[0].n, r=stored[0].r, p=stored[0].p, dklen=32
        ).hex()
    )
    assert path.stat().st_mode & 0o777 == 0o600
    tokens = MemberTokens(path)
    assert tokens.verify(first).name == "north" and tokens.verify(second).name == "south"
    assert tokens.verify(first.replace("_", "-")) is None
    with pytest.raises(TokenFileError, match="already holds a token for 'north'"):
        create_token(path, "north")
    with pytest.raises(TokenFileError, match="no token for 'east'"):
        revoke_token(path, "east")
    path.write_text("[1, 2]")
    with pytest.raises(TokenFileError, match="is not a dashboard tokens file"):
        read_tokens(path)


def test_the_store_is_opened_read_only_and_left_untouched(dashboard, client):
    before = hashlib.sha256(dashboard.made.store.read_bytes()).hexdigest()
    for path in [*GOOD_REQUESTS, *PAGES]:
        client.get(path, headers=bearer(dashboard.token))
    assert hashlib.sha256(dashboard.made.store.read_bytes()).hexdigest() == before
    with (
        ReleaseStore(dashboard.made.store)._connect() as connection,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        connection.execute("CREATE TABLE intruder (x)")
    with pytest.raises(StoreError, match="no release store here"):
        ReleaseStore(dashboard.made.store.parent / "missing.sqlite")


def test_cli_creates_a_token_once_and_refuses_to_serve_without_members(dashboard, tmp_path, capsys):
    tokens = tmp_path / "members.json"
    assert main(["dashboard", "token", "--tokens", str(tokens), "--name", "south-wind"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert MemberTokens(tokens).verify(token).name == "south-wind" and token not in tokens.read_text()
    assert main(["dashboard", "token", "--tokens", str(tokens), "--name", "south-wind"]) == 2
    assert "already holds a token for 'south-wind'" in capsys.readouterr().err
    empty = tmp_path / "nobody.json"
    assert main(["dashboard", "--store", str(dashboard.made.store), "--tokens", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "no member tokens in" in err and "fleetbench dashboard token" in err and "Traceback" not in err
    assert main(["dashboard", "--store", str(tmp_path / "missing.sqlite"), "--tokens", str(tokens)]) == 2
    assert "no release store here" in capsys.readouterr().err
    assert parser().parse_args(["dashboard", "--store", "release.sqlite"]).host == "127.0.0.1"


def test_the_dashboard_imports_nothing_from_the_sites():
    code = "import sys, server.dashboard.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'client'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_private_release_shows_its_privacy_and_no_count_it_does_not_carry(tmp_path, tmp_path_factory):
    store, release = private_release(tmp_path_factory)
    assert release.HasField("privacy")
    token = create_token(tmp_path / "tokens.json", "north-wind")
    client = TestClient(create_app(store, tmp_path / "tokens.json"))
    detail = client.get("/api/releases/1", headers=bearer(token)).json()
    assert detail["settings"]["privacy"]["epsilon"] == pytest.approx(PRIVATE_EPSILON, rel=1e-6)
    listing = client.get("/", headers=bearer(token)).text
    assert "differentially private: &epsilon; = 50," in listing
    bins = client.get(f"/api/releases/1/curve?cohort={COHORT}", headers=bearer(token)).json()["bins"]
    noisy = [b for b in bins if b["noisy_record_weight"] is not None]
    assert noisy and all(b["record_count"] is None and b["operator_count"] is None for b in noisy)
    page = client.get(f"/releases/1/cohort?name={COHORT}", headers=bearer(token)).text
    table = page.split('id="bins"')[1].split("</table>")[0]
    assert "<th>noisy record weight</th>" in table
    first = next(b for b in release.curves[0].bins if not b.suppressed)
    row = table.split(f"<td>{first.wind_speed_centre:.1f}</td>")[1].split("</tr>")[0]
    dash = "\u2013"  # what the page shows for a statistic the bin does not carry
    assert row.startswith(f"<td>{dash}</td><td>{dash}</td>")  # no record or operator count, none drawn as 0
    figure = figures.power_curve_figure(release.curves[0])
    assert figure.data[-1].name == "operators per bin" and len(figure.data[-1].x) == sum(
        b.HasField("operator_count") for b in release.curves[0].bins
    )


def test_plotly_and_pages_travel_gzipped_and_static_assets_are_cached(dashboard, client):
    member = {**bearer(dashboard.token), "Accept-Encoding": "gzip"}
    script = client.get("/static/plotly.min.js", headers=member)
    assert script.headers["content-encoding"] == "gzip" and "max-age=86400" in script.headers["cache-control"]
    assert script.num_bytes_downloaded < 0.4 * len(script.content)  # 4.8 MB sent as about 1.4 MB
    assert "Plotly" in script.text[:2000]  # decoded by the client: the script itself
    plain = client.get("/static/plotly.min.js", headers={**bearer(dashboard.token), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == script.content
    page = client.get(f"/releases/1/cohort?name={COHORT}", headers=member)
    assert page.headers["content-encoding"] == "gzip" and page.num_bytes_downloaded < len(page.content) / 3


def test_suppressed_rows_meet_wcag_aa_contrast():
    import re

    from server.dashboard.app import STATIC

    def luminance(hex_colour: str) -> float:
        digits = hex_colour.lstrip("#")
        digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    rule = re.search(r"tr\.suppressed td[^{]*\{([^}]*)\}", (STATIC / "style.css").read_text()).group(1)
    colour = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{3,6})", rule).group(1)
    background = re.search(r"background:\s*(#[0-9a-fA-F]{3,6})", rule).group(1)
    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5  # WCAG 2 AA for normal text (#777 on #eee was 3.9)
    assert round((luminance("#eee") + 0.05) / (luminance("#777") + 0.05), 2) < 4.5  # the control: the old grey fails


@pytest.mark.parametrize("case", ["released", "all suppressed", "not measured"])
def test_failure_rates_that_are_not_released_are_never_drawn_as_zero(dashboard, tmp_path, case):
    from server.store import write_release

    release = release_pb2.Release()
    release.CopyFrom(dashboard.made.releases[0])
    rates = [r for r in release.failure_rates if r.cohort == COHORT]
    assert rates  # the fixture's cohort has failure-rate cells, or this would prove nothing
    del release.failure_rates[:]
    if case == "released":
        rates[0].suppressed, rates[0].failures_per_turbine_year, rates[0].failures = False, 0.4, 2
        rates[0].turbine_years, rates[0].operator_count = 5.0, 3
        release.failure_rates.extend(rates)
    if case == "all suppressed":
        for rate in rates:
            rate.ClearField("failures_per_turbine_year")
            rate.suppressed, rate.suppression_reason = True, "fewer than 3 operators"
        release.failure_rates.extend(rates)
    write_release(tmp_path / "one.sqlite", release)
    client = TestClient(create_app(tmp_path / "one.sqlite", dashboard.tokens), follow_redirects=False)
    page = client.get(f"/releases/1/cohort?name={COHORT}", headers=bearer(dashboard.token)).text
    section = page.split("Failure rates by component and turbine age")[1].split("<h2>")[0]
    drawn = 'id="failure-rates"' in section
    assert drawn == (case == "released") and ("This is not a rate of zero." in section) == (not drawn)
    assert ("None released: all" in section) == (case == "all suppressed")


def test_the_release_page_counts_every_suppressed_cell_by_reason_with_links(dashboard, client):
    from server.dashboard.pages import suppressions_by_reason

    release = dashboard.made.releases[0]
    rows = suppressions_by_reason(release)
    # Every suppressed cell of the release, counted once: the number its provenance states, and every one listed.
    listed = sum(c.suppressed + sum(b.suppressed for b in c.bins) for c in release.curves) + sum(
        x.suppressed
        for items in (release.models, release.distributions, release.failure_rates, release.lost_production)
        for x in items
    )
    assert sum(row["total"] for row in rows) == listed == release.provenance.suppressed_cells
    assert [row["total"] for row in rows] == sorted((row["total"] for row in rows), reverse=True)
    page = client.get("/releases/1", headers=bearer(dashboard.token)).text
    table = page.split('id="suppressions"')[1].split("</table>")[0]
    for row in rows:
        assert f"<td>{row['reason']}</td><td>{row['total']}</td>" in table.replace("&#39;", "'")
    cohorts = {cohort for row in rows for cohort in row["in_cohorts"]}
    assert all(f">{cohort}</a>" in table for cohort in cohorts) and table.count(
        'href="/releases/1/cohort?name='
    ) >= len(cohorts)
