"""`features`, Thumbor's feature detector: OpenCV's corners found band by band are the corners
`cv2.goodFeaturesToTrack` finds on the whole image; the detector sees the whole working image
(upright, trimmed, never shrunk by the JPEG decoder unless its answer is cached); and the
chain with DETECTORS unset. (The crops against the real Thumbor: tests/peers/.)"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.images import CORPUS, SAMPLES, encode, gradient
from thumbor_urls.app import App
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.deadline import Deadline, DeadlineExceeded, running_until
from thumbor_urls.detectors import FEATURE, build_detectors, run_chain, whole_upright
from thumbor_urls.detectors.service import DetectionService
from thumbor_urls.messages import Request
from thumbor_urls.url import parse_path

cv2 = pytest.importorskip("cv2")
numpy = pytest.importorskip("numpy")

from thumbor_urls.detectors.corners import strongest_corners  # noqa: E402
from thumbor_urls.detectors.features import FeatureDetector  # noqa: E402


def opencv(grey: Any) -> list[tuple[int, int]]:
    """What Thumbor runs: goodFeaturesToTrack with its parameters, on the whole image."""
    found = cv2.goodFeaturesToTrack(grey, maxCorners=20, qualityLevel=0.04, minDistance=1.0)
    return [] if found is None else [(int(p[0][0]), int(p[0][1])) for p in found]


def grey_of(path: Path) -> Any:
    return numpy.asarray(Image.open(path).convert("L"))


def corners_of(grey: Any, band_pixels: int = 1 << 20) -> list[tuple[int, int]]:
    """strongest_corners with Thumbor's parameters on a grey array, a band at a time."""
    height, width = grey.shape
    return strongest_corners(lambda a, b: grey[a:b], (width, height), 20, 0.04, band_pixels)


def drawn_shapes() -> Any:
    """Flat shapes: their corners have equal values, so the order among ties is tested."""
    picture = Image.new("L", (400, 300), 0)
    draw = ImageDraw.Draw(picture)
    for left in range(10, 390, 40):
        draw.rectangle((left, 40, left + 20, 60), fill=255)
        draw.rectangle((left, 200, left + 20, 220), fill=255)
    return numpy.asarray(picture)


def checkerboard() -> Any:
    squares = numpy.indices((20, 30)).sum(axis=0) % 2 * 255
    return numpy.kron(squares, numpy.ones((16, 16))).astype(numpy.uint8)


PICTURES = {
    "photo": lambda: grey_of(CORPUS / "photo_sunset_4272x2848.jpg"),
    "cut-out": lambda: grey_of(CORPUS / "alpha_cutout_dandelions_1600x900.png"),
    "face": lambda: grey_of(CORPUS / "face_astronaut_512x512.jpg"),
    "noise": lambda: numpy.random.default_rng(7).integers(0, 256, (700, 900), numpy.uint8),
    "drawn shapes": drawn_shapes,
    "checkerboard": checkerboard,
    "flat": lambda: numpy.full((100, 120), 7, numpy.uint8),
    "a line": lambda: numpy.random.default_rng(1).integers(0, 256, (2, 50), numpy.uint8),
    "three by three": lambda: numpy.random.default_rng(2).integers(0, 256, (3, 3), numpy.uint8),
}


@pytest.mark.parametrize("name", PICTURES)
@pytest.mark.parametrize("band_pixels", [1 << 20, 2000, 1])
def test_corners_found_band_by_band_are_opencvs(name: str, band_pixels: int) -> None:
    grey = PICTURES[name]()
    expected = opencv(grey)
    assert corners_of(grey, band_pixels) == expected
    if name not in ("flat", "a line", "three by three"):
        assert len(expected) == 20  # a real answer, not two empty ones


def test_the_corners_of_equal_strength_come_in_opencvs_order() -> None:
    grey = drawn_shapes()
    corners = corners_of(grey, 5000)
    # More than 20 corners tie at the top: which 20 are kept is decided by the order.
    eigen = cv2.cornerMinEigenVal(grey, 3, ksize=3)
    values = {float(eigen[y, x]) for x, y in corners}
    assert len(values) == 1
    assert corners == opencv(grey)


def test_features_are_thumbors_focal_points() -> None:
    image = Image.fromarray(drawn_shapes())
    regions = FeatureDetector().detect(image)
    assert len(regions) == 20
    points = [region.focal_point() for region in regions]
    # Thumbor's FocalPoint(x, y, 1): 1x1, weight 1, origin left at "alignment".
    assert {(p.width, p.height, p.weight, p.origin) for p in points} == {(1, 1, 1.0, "alignment")}
    assert [(p.x, p.y) for p in points] == opencv(drawn_shapes())
    assert {region.kind for region in regions} == {FEATURE}


def test_alpha_is_ignored_as_thumbor_ignores_it() -> None:
    # What lies under transparent pixels counts: Thumbor greys with alpha=False.
    image = Image.fromarray(drawn_shapes()).convert("RGBA")
    image.putalpha(Image.new("L", image.size, 0))
    regions = FeatureDetector().detect(image)
    assert [(int(r.left), int(r.top)) for r in regions] == opencv(drawn_shapes())


def test_a_turned_image_is_seen_upright_in_grey_and_an_upright_one_as_it_is() -> None:
    frame = gradient((300, 200), "RGBA")
    assert whole_upright(frame, 1) is frame  # no copy: the detector greys it band by band
    turned = whole_upright(frame, 6)
    assert (turned.mode, turned.size) == ("L", (200, 300))
    expected = frame.convert("L").transpose(Image.Transpose.ROTATE_270)
    assert turned.tobytes() == expected.tobytes()


def test_a_flat_picture_has_no_features() -> None:
    assert FeatureDetector().detect(Image.new("RGB", (300, 200), (40, 80, 120))) == []


def test_the_corner_search_stops_between_bands_when_its_answer_has_gone() -> None:
    grey = PICTURES["noise"]()
    gone = Deadline(0.0)
    with running_until(gone), pytest.raises(DeadlineExceeded):
        corners_of(grey, 2000)
    # ... and the chain does not take that for a failed detector to skip.
    with running_until(gone), pytest.raises(DeadlineExceeded):
        run_chain([FeatureDetector()], Image.fromarray(grey), lambda: Image.fromarray(grey))


# --- what the detector sees --------------------------------------------------------------------


class Seeing(FeatureDetector):
    """The features detector, remembering the images it was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[tuple[int, int], str]] = []

    def detect(self, image: Image.Image) -> list[Any]:
        self.seen.append((image.size, image.mode))
        return super().detect(image)


def app_with(root: Path, results: Path | None, detector: FeatureDetector, **settings: Any) -> App:
    app = App(
        Settings(
            FILE_LOADER_ROOT_PATH=root, RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=results, **settings
        )
    )
    app.detectors = DetectionService.from_settings(
        app.settings, app.results, repr(app.source), [detector]
    )
    return app


def meta(app: App, path: str) -> dict[str, Any]:
    response = app.handle(Request("GET", f"/unsafe/meta/{path}", {}))
    assert response.status == 200, response.body
    result: dict[str, Any] = json.loads(response.body)["thumbor"]
    return result


def test_the_detector_sees_the_whole_decoded_jpeg(tmp_path: Path) -> None:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions.jpg", root / "big.jpg")  # 5312x2988
    detector = Seeing()
    app = app_with(root, None, detector)
    info = meta(app, "40x40/smart/big.jpg")
    # A 40x40 thumbnail alone would decode at 1/8; the corners are the full image's.
    assert detector.seen == [((5312, 2988), "RGB")]
    full = numpy.asarray(Image.open(root / "big.jpg").convert("L"))
    assert [(p["x"], p["y"]) for p in info["focal_points"]] == opencv(full)


def test_the_detector_sees_the_image_upright_and_trimmed(tmp_path: Path) -> None:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions-exif-rotated.jpg", root / "r.jpg")  # stored 1350x2400
    framed = Image.new("RGB", (500, 400), "white")
    framed.paste(Image.fromarray(drawn_shapes()).convert("RGB"), (50, 50))
    (root / "framed.png").write_bytes(encode(framed, "PNG"))
    detector = Seeing()
    app = app_with(root, None, detector, RESPECT_ORIENTATION=True)
    info = meta(app, "100x100/smart/r.jpg")
    assert detector.seen == [((2400, 1350), "L")]  # turned: in grey
    upright = Image.open(root / "r.jpg").transpose(Image.Transpose.ROTATE_270)  # EXIF 6
    expected = opencv(numpy.asarray(upright.convert("L")))
    assert [(p["x"], p["y"]) for p in info["focal_points"]] == expected
    meta(app, "trim/100x100/smart/framed.png")
    assert detector.seen[-1] == ((400, 300), "RGB")


def test_a_known_answer_lets_the_jpeg_decoder_shrink(tmp_path: Path) -> None:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions.jpg", root / "big.jpg")
    detector = Seeing()
    app = app_with(root, tmp_path / "results", detector)
    first = meta(app, "300x200/smart/big.jpg")
    assert detector.seen == [((5312, 2988), "RGB")]
    response = app.handle(Request("GET", "/unsafe/60x60/smart/big.jpg", {}))
    assert response.status == 200
    assert len(detector.seen) == 1  # from the store
    second = meta(app, "300x200/smart/big.jpg")
    assert second["focal_points"] == first["focal_points"]
    assert second["operations"] == first["operations"]


# --- the chain ---------------------------------------------------------------------------------


def test_with_detectors_unset_the_chain_is_thumbors_faces_then_features() -> None:
    chain = build_detectors(Settings())
    assert [d.name for d in chain] == ["opencv", "features"]
    assert [d.name for d in build_detectors(Settings.from_env({}))] == ["opencv", "features"]
    assert build_detectors(Settings.from_env({"DETECTORS": ""})) == ()  # none, as asked


def test_without_opencv_the_default_is_saliency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)  # as if opencv-python-headless were missing
    for module in ("opencv", "features", "corners"):
        monkeypatch.delitem(sys.modules, f"thumbor_urls.detectors.{module}", raising=False)
    assert [d.name for d in build_detectors(Settings())] == ["saliency"]
    with pytest.raises(SettingError, match="DETECTORS names 'features', which needs cv2"):
        build_detectors(Settings(DETECTORS=("features",)))


def test_the_default_chain_is_part_of_the_result_key(tmp_path: Path) -> None:
    """With DETECTORS unset, installing OpenCV changes smart/ crops: their cache keys too."""
    plan = parse_path("300x200/smart/a.jpg")

    def key(**settings: Any) -> str:
        return App(Settings(FILE_LOADER_ROOT_PATH=tmp_path, **settings)).result_key(plan, "")

    assert key() != key(DETECTORS=("saliency",))
    assert key(DETECTORS=("opencv", "features")) != key(DETECTORS=("saliency",))


def test_smart_crop_asks_the_face_detectors_only(root: Path, tmp_path: Path) -> None:
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results",
        DETECTORS=("features", "opencv"),
    )
    app = App(settings)
    # smart/: features answer first; smart_crop(): the face, which features would have hidden.
    assert meta(app, "100x100/smart/astronaut.jpg").get("detector") == "features"
    info = meta(app, "filters:smart_crop(0,0)/astronaut.jpg")
    assert info["detector"] == "opencv"
    crop = next(op for op in info["operations"] if op["type"] == "crop")
    assert (crop["left"], crop["top"]) == (174, 52)


def test_smart_crop_without_a_face_detector_says_so(root: Path, tmp_path: Path) -> None:
    app = App(Settings(FILE_LOADER_ROOT_PATH=root, DETECTORS=("saliency", "features")))
    response = app.handle(Request("GET", "/unsafe/filters:smart_crop()/astronaut.jpg", {}))
    assert response.status == 501
    message = json.loads(response.body)["message"]
    assert "needs a face detector" in message and "saliency,features" in message
