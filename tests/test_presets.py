"""PRESETS and ONLY_PRESETS (`preset:NAME/IMAGE`), and the allow-lists of widths, heights and
qualities, through the real App over the samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.images import SAMPLES, decode
from thumbor_urls import grammar
from thumbor_urls.app import App
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.messages import Access, Request, Response
from thumbor_urls.signing import sign_thumbor_path

KEY = "preset-test-key"
THUMB = "fit-in/200x200/filters:quality(70)"
PRESETS = (("thumb", THUMB), ("square", "100x100/smart"), ("whole", ""))


class Server:
    """An App over a copy of two samples; the outcome of each request is kept."""

    def __init__(self, tmp_path: Path, **settings: object) -> None:
        root = tmp_path / "originals"
        root.mkdir(parents=True, exist_ok=True)
        for name in ("astronaut.jpg", "pan.gif"):
            shutil.copy(SAMPLES / name, root / name)
        self.app = App(
            Settings(
                FILE_LOADER_ROOT_PATH=root,
                RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results",
                SECURITY_KEY=KEY,
            ).replace(**settings)
        )
        self.outcomes: list[str] = []

    def get(self, path: str) -> Response:
        def record(access: Access) -> None:
            self.outcomes.append(access.outcome)

        return self.app.handle(Request("GET", path), record=record)


def error_code(response: Response, status: int) -> str:
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert body["status"] == status
    assert body["message"]
    return str(body["code"])


# --- the setting ---------------------------------------------------------------------------


def test_presets_are_read_from_json_or_a_file(tmp_path: Path) -> None:
    inline = Settings.from_env({"PRESETS": json.dumps(dict(PRESETS))})
    assert inline.PRESETS == PRESETS
    as_json = tmp_path / "presets.json"
    as_json.write_text(json.dumps(dict(PRESETS)))
    assert Settings.from_env({"PRESETS": str(as_json)}).PRESETS == PRESETS
    as_lines = tmp_path / "presets.conf"
    as_lines.write_text(
        "# name=options, one a line\nthumb = fit-in/200x200/filters:quality(70)\n\n"
        "square=100x100/smart\nwhole=\n"
    )
    assert Settings.from_env({"PRESETS": str(as_lines)}).PRESETS == PRESETS
    assert Settings.from_env({"PRESETS": ""}).PRESETS == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "PRESETS is not valid JSON"),
        ('{"a": 1}', "PRESETS must map names to option strings"),
        ("/no/such/presets.json", "PRESETS must be a JSON object or the path of a file"),
    ],
)
def test_unreadable_presets_are_setting_errors(raw: str, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        Settings.from_env({"PRESETS": raw})


@pytest.mark.parametrize(
    ("presets", "message"),
    [
        ((("bad name", "300x200"),), "is not a name"),
        ((("a", "300x200/photo.jpg"),), "'photo.jpg/' is not an option"),
        ((("a", "filters:no_such_filter()"),), "unknown filter no_such_filter"),
        ((("a", "filters:quality(500)"),), "quality"),
        ((("a", "filters:quality(70)"),), "ALLOWED_QUALITIES"),  # the lists hold for presets
    ],
)
def test_a_wrong_preset_stops_the_server_from_starting(
    tmp_path: Path, presets: tuple[tuple[str, str], ...], message: str
) -> None:
    with pytest.raises(SettingError, match=message):
        Server(tmp_path, PRESETS=presets, ALLOWED_QUALITIES=(80,))


def test_only_presets_needs_presets(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="ONLY_PRESETS is true but PRESETS defines none"):
        Server(tmp_path, ONLY_PRESETS=True)


# --- serving presets -----------------------------------------------------------------------


def test_a_preset_serves_what_its_options_serve_and_shares_their_result(tmp_path: Path) -> None:
    server = Server(tmp_path, PRESETS=PRESETS)
    preset = server.get("/unsafe/preset:thumb/astronaut.jpg")
    assert preset.status == 200
    assert decode(preset.body).size == (200, 200)
    # The same options written out: the same bytes, from the result the preset stored.
    written = server.get(f"/unsafe/{THUMB}/astronaut.jpg")
    assert written.body == preset.body
    assert server.outcomes == ["processed", "result-cache"]
    assert decode(server.get("/unsafe/preset:square/astronaut.jpg").body).size == (100, 100)
    assert decode(server.get("/unsafe/preset:whole/astronaut.jpg").body).size == (512, 512)


def test_a_preset_url_is_signed_as_written(tmp_path: Path) -> None:
    server = Server(tmp_path, PRESETS=PRESETS, ALLOW_UNSAFE_URL=False)
    path = "preset:thumb/astronaut.jpg"
    signed = sign_thumbor_path(KEY, path)
    assert server.get(signed).status == 200
    # `thumbor-urls sign` (the grammar's generator) signs it unchanged.
    assert grammar.generate_url(grammar.parse(path), KEY) == signed
    # The signature covers the preset's name: another preset under it is refused.
    forged = signed.replace("preset:thumb/", "preset:square/")
    assert error_code(server.get(forged), 403) == "SignatureDoesNotMatch"
    assert error_code(server.get(f"/unsafe/{path}"), 403) == "UnsafeUrlNotAllowed"


def test_nothing_but_the_image_follows_a_preset(tmp_path: Path) -> None:
    server = Server(tmp_path, PRESETS=PRESETS)
    # `300x300/astronaut.jpg` is the image's key here, not options added to the preset.
    assert error_code(server.get("/unsafe/preset:thumb/300x300/astronaut.jpg"), 404) == (
        "NoSuchKey"
    )
    assert error_code(server.get("/unsafe/preset:nope/astronaut.jpg"), 400) == "UnknownPreset"
    assert error_code(server.get("/unsafe/preset:thumb/"), 400) == "InvalidUrl"


def test_without_presets_preset_is_an_ordinary_path(tmp_path: Path) -> None:
    server = Server(tmp_path)
    assert error_code(server.get("/unsafe/preset:thumb/astronaut.jpg"), 404) == "NoSuchKey"


def test_only_presets_refuses_everything_else(tmp_path: Path) -> None:
    server = Server(tmp_path, PRESETS=PRESETS, ONLY_PRESETS=True)
    assert server.get("/unsafe/preset:thumb/astronaut.jpg").status == 200
    for path in (
        "/unsafe/300x300/astronaut.jpg",
        "/unsafe/astronaut.jpg",
        "/unsafe/meta/preset:thumb/astronaut.jpg",
        sign_thumbor_path(KEY, "fit-in/200x200/filters:quality(70)/astronaut.jpg"),  # signed too
        "/params/unsafe/300x300/astronaut.jpg",
    ):
        response = server.get(path)
        assert error_code(response, 403) == "PresetRequired", path
        assert "thumb" in json.loads(response.body)["message"]  # it says what there is
    # A wrong signature is still a wrong signature, and the health check still answers.
    assert error_code(server.get("/AAAAAAAAAAAAAAAAAAAAAAAAAAA=/a.jpg"), 403) == (
        "SignatureDoesNotMatch"
    )
    assert server.get("/healthcheck").status == 200
    params = json.loads(server.get("/params/unsafe/preset:thumb/astronaut.jpg").body)
    assert (params["fit_in"], params["width"], params["image"]) == (True, 200, "astronaut.jpg")
    assert params["filters"] == [{"name": "quality", "args": ["70"]}]


# --- allow-lists ---------------------------------------------------------------------------


def test_sizes_outside_the_lists_are_refused(tmp_path: Path) -> None:
    server = Server(tmp_path, ALLOWED_WIDTHS=(100, 200), ALLOWED_HEIGHTS=(150,))
    assert decode(server.get("/unsafe/200x150/astronaut.jpg").body).size == (200, 150)
    assert decode(server.get("/unsafe/fit-in/100x0/astronaut.jpg").body).size == (100, 100)
    assert server.get("/unsafe/0x150/astronaut.jpg").status == 200  # 0 keeps the proportion
    assert server.get("/unsafe/origx150/astronaut.jpg").status == 200
    assert server.get("/unsafe/astronaut.jpg").status == 200  # nothing written
    for path, side in (
        ("/unsafe/201x150/astronaut.jpg", "width of 201"),
        ("/unsafe/fit-in/100x100/astronaut.jpg", "height of 100"),
        ("/unsafe/-300x150/astronaut.jpg", "width of 300"),  # a flip is no way around it
    ):
        response = server.get(path)
        assert error_code(response, 400) == "SizeNotAllowed", path
        message = json.loads(response.body)["message"]
        assert side in message
        assert ("100, 200" in message) or ("150" in message)


def test_with_a_size_list_dpr_takes_a_few_ratios_only(tmp_path: Path) -> None:
    server = Server(tmp_path, ALLOWED_WIDTHS=(100,))
    assert decode(server.get("/unsafe/100x0/filters:dpr(1.5)/astronaut.jpg").body).size == (
        150,
        150,
    )
    refused = server.get("/unsafe/100x0/filters:dpr(1.01)/astronaut.jpg")
    assert error_code(refused, 400) == "SizeNotAllowed"
    assert "dpr(1.01)" in json.loads(refused.body)["message"]
    # Without a size list any ratio from 1 to 4 is served.
    free = Server(tmp_path / "free")
    assert decode(free.get("/unsafe/100x0/filters:dpr(1.01)/astronaut.jpg").body).size == (
        101,
        101,
    )


def test_qualities_outside_the_list_are_refused(tmp_path: Path) -> None:
    server = Server(tmp_path, ALLOWED_QUALITIES=(50, 75))
    assert server.get("/unsafe/100x100/filters:quality(75)/astronaut.jpg").status == 200
    assert server.get("/unsafe/100x100/astronaut.jpg").status == 200  # QUALITY itself passes
    refused = server.get("/unsafe/100x100/filters:quality(76)/astronaut.jpg")
    assert error_code(refused, 400) == "QualityNotAllowed"
    assert "50, 75" in json.loads(refused.body)["message"]


def test_allow_lists_hold_for_signed_urls_and_presets_that_fit_them(tmp_path: Path) -> None:
    server = Server(
        tmp_path, PRESETS=PRESETS, ALLOWED_WIDTHS=(100, 200), ALLOWED_QUALITIES=(70, 80)
    )
    signed = sign_thumbor_path(KEY, "300x300/astronaut.jpg")
    assert error_code(server.get(signed), 400) == "SizeNotAllowed"
    assert server.get("/unsafe/preset:thumb/astronaut.jpg").status == 200
