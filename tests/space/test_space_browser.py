"""The demo Space in a real browser: the app (`space/app.py`'s `build_demo`, on the shipped slip-tiny) served on
127.0.0.1 and driven by headless Chromium through Playwright. Uploading a CSV shows the same captions as
`slip caption` on that file and the picture; typed labels get scores; a text query finds the example recording it
describes; a missing input is a message on the page. Screenshots are written to the test's folder."""

import csv
import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs Playwright (pip install playwright)")
pytest.importorskip("gradio", reason="the Space needs gradio (pip install -e '.[space]')")

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

SPACE = Path(__file__).resolve().parents[2] / "space"
# No network here: without these flags Chromium waits on connections it cannot make (updates, sync, QUIC).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MODEL_STEP_MS = 60_000  # the longest a click that runs the model may take on 2 shared CPU cores
RATE, SECONDS, CHUNK_S = 20, 30, 10  # the uploaded file: no timestamps, so the rate is typed in; three windows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The Space app served on a free local port for this module's tests; closed after them."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from slip_sensor.space_app import build_demo

    demo = build_demo(None, SPACE / "examples", tmp_path_factory.mktemp("space-cache"))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture
def page(app_url):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(app_url)
            page.wait_for_selector("#caption-button")
            yield page
        finally:
            browser.close()


@pytest.fixture
def walk_csv(tmp_path) -> Path:
    """30 s of a 2-channel accelerometer at 20 Hz, columns = channels, no time column."""
    t = np.arange(RATE * SECONDS) / RATE
    path = tmp_path / "walk.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["acc_x", "acc_z"])
        writer.writerows(zip(np.round(0.4 * np.sin(2 * np.pi * 1.8 * t), 3), np.round(1 + 0.2 * np.cos(2 * np.pi * t), 3)))
    return path


def read_table(page, elem_id: str) -> list[dict[str, str]]:
    """The rows of the Dataframe `elem_id` as shown on the page, keyed by column header."""
    table = page.locator(f"#{elem_id}")
    headers = [header.get_attribute("title") for header in table.locator('th[data-testid^="header-"]').all()]
    rows = []
    while table.locator(f'[data-testid="cell-{len(rows)}-0"]').count():
        cells = [table.locator(f'[data-testid="cell-{len(rows)}-{column}"]').first.inner_text().strip()
                 for column in range(len(headers))]
        rows.append(dict(zip(headers, cells)))
    return rows


def wait_for_rows(page, elem_id: str) -> list[dict[str, str]]:
    page.wait_for_selector(f'#{elem_id} [data-testid="cell-0-0"]', timeout=MODEL_STEP_MS)
    return read_table(page, elem_id)


def picture_width(page, elem_id: str) -> int:
    """The loaded width in pixels of the image in `elem_id` (0: not shown)."""
    image = page.locator(f"#{elem_id} img")
    image.wait_for(timeout=MODEL_STEP_MS)
    return page.wait_for_function("img => img.complete && img.naturalWidth", arg=image.element_handle()).json_value()


def slip_caption_texts(path: Path, out: Path) -> list[str]:
    """The window captions of `slip caption` on `path`, with the Space's settings."""
    from slip_sensor.cli import main
    from slip_sensor.space_app import MAX_NEW_TOKENS

    assert main(["caption", str(path), "--sampling-rate", str(RATE), "--chunk-length-s", str(CHUNK_S),
                 "--max-new-tokens", str(MAX_NEW_TOKENS), "--out", str(out), "--no-progress"]) == 0
    with open(out / f"{path.stem}.csv", newline="") as file:
        return [row["generated_text"] for row in csv.DictReader(file)]


def test_space_captions_labels_and_searches_in_a_browser(page, walk_csv, tmp_path):
    # Caption: an uploaded CSV without timestamps, its rate typed in
    page.set_input_files("#recording input[type=file]", str(walk_csv))
    sync_api.expect(page.locator("#recording")).to_contain_text("walk")
    page.locator("#sampling-rate input").fill(str(RATE))
    page.locator("#window-length input").fill(str(CHUNK_S))
    page.click("#caption-button")
    captions = wait_for_rows(page, "captions")
    assert [(float(row["start_s"]), float(row["end_s"])) for row in captions] == [(0, 10), (10, 20), (20, 30)]
    assert [row["caption"] for row in captions] == slip_caption_texts(walk_csv, tmp_path / "cli")
    assert all(row["caption"] for row in captions)
    assert picture_width(page, "caption-picture") > 1000
    assert "2-channel" in page.locator("#known-facts textarea").input_value()
    page.screenshot(path=tmp_path / "space-caption.png", full_page=True)

    # Zero-shot labels on the same recording; then no labels at all is a message on the page
    page.get_by_role("tab", name="Zero-shot labels").click()
    page.locator("#labels textarea").fill("walking, sitting still")
    page.click("#classify-button")
    scores = wait_for_rows(page, "scores")
    assert sorted(row["label"] for row in scores) == ["sitting still", "walking"]
    assert sum(float(row["score"]) for row in scores) == pytest.approx(1, abs=1e-3)  # a softmax over the labels
    assert picture_width(page, "label-picture") > 1000
    page.screenshot(path=tmp_path / "space-labels.png", full_page=True)
    page.locator("#labels textarea").fill(" , ")
    page.click("#classify-button")
    page.get_by_text("No labels: type the candidate labels").first.wait_for()

    # Search the bundled archive: the accelerometer example is the best match of its own description
    page.get_by_role("tab", name="Search an archive").click()
    page.locator("#query textarea").fill("walking accelerometer")
    page.click("#search-button")
    hits = wait_for_rows(page, "hits")
    assert len(hits) == 5 and [row["rank"] for row in hits] == ["1", "2", "3", "4", "5"]
    assert hits[0]["recording"] == "walking-accelerometer.csv"
    assert picture_width(page, "hits-picture") > 0
    page.screenshot(path=tmp_path / "space-search.png", full_page=True)
    assert (tmp_path / "space-caption.png").stat().st_size > 0


def test_space_names_a_missing_recording_and_captions_a_bundled_example(page):
    page.click("#caption-button")
    page.get_by_text("No recording: upload a CSV file").first.wait_for()
    page.get_by_text("resting-ecg.csv").first.click()  # 30 s with a time column: one 60-s window
    sync_api.expect(page.locator("#recording")).to_contain_text("resting-ecg")
    page.click("#caption-button")
    captions = wait_for_rows(page, "captions")
    assert [(row["start_s"], row["end_s"]) for row in captions] == [("0", "30")] and captions[0]["caption"]
    assert "sampled at 100 Hz" in page.locator("#known-facts textarea").input_value()
