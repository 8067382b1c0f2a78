"""The Gradio app over loopback: every api_name answers, a missing checkpoint is reported with the command that makes it,
bad inputs get a clear gr.Error and the server stays up, a photo gets a note that it is not ShapesWorld, 20 concurrent
requests are all answered, and a real browser (Debian's Chromium driven by Playwright) clicks through every tab
(measuring a checkpoint's figures on held-out scenes on the way) and trains a missing checkpoint from the app.

The checkpoints are untrained models of the tiny presets written with save_pretrained (seconds, no training): these tests
check the app's plumbing, not the models. Set VLP_DEMO_ROOT to a trained demo folder to run them on real checkpoints,
and VLP_SCREENSHOTS to a folder to keep the browser's screenshots (default: pytest's tmp folder)."""
import os, random, re, socket, time
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from gradio_client import Client, handle_file
from vlp_edu.core import tiny
from vlp_edu.data import render, sample_scene
from vlp_edu.pixel_vlp import PixelVLP
from vlp_edu.downstream import VQAModel
from vlp_edu.teacher import RegionTeacher, teacher_config
from vlp_edu.region_vlp import RegionVLP
from vlp_edu.e2evlp import E2EVLP, e2evlp_preset, e2evlp_options
from vlp_edu.simvlg import SimVLG, SimVLGConfig, load_frozen_llm
from vlp_edu.demo import build_demo

from conftest import CHROMIUM, browser_or_skip as _browser_or_skip   # the shared browser check
ANSWERS = ["red", "green", "blue", "yellow", "purple", "cyan", "circle", "square", "triangle", "diamond",
           "yes", "no", "1", "2", "3", "small", "large"]

def make_untrained_root(root: Path) -> Path:
    "Every checkpoint folder the app reads, as untrained tiny models (the app's contract, not its quality)."
    torch.manual_seed(0)
    p, answers = tiny(), {a: i for i, a in enumerate(ANSWERS)}
    vlp = PixelVLP(p, pretrained=False); vlp.save_pretrained(root / "pretrain")
    VQAModel(vlp, answers).save_pretrained(root / "vqa")
    rv = RegionVLP(p, teacher=RegionTeacher(teacher_config(p), pretrained=False), pretrained=False)
    rv.save_pretrained(root / "region"); VQAModel(rv, answers).save_pretrained(root / "region-vqa")
    pe = e2evlp_preset("tiny")
    E2EVLP(pe, pretrained=False, **e2evlp_options(pe)).save_pretrained(root / "e2evlp")
    cfg = SimVLGConfig.preset("tiny")
    llm = load_frozen_llm(cfg.llm_layers)
    SimVLG(cfg, *llm).save_pretrained(root / "simvlg")
    SimVLG(cfg.replace(n_frames=p.data.clip_len, temporal_at=(3, -1)), *llm).save_pretrained(root / "simvlg-video")
    return root

def serve(root, **kw):
    "Launch build_demo(root, **kw) on a free loopback port with the queue `vlp-demo` uses; returns (demo, url)."
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    demo = build_demo(root, **kw)
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = Path(os.environ["VLP_DEMO_ROOT"]) if os.environ.get("VLP_DEMO_ROOT") else make_untrained_root(tmp_path_factory.mktemp("demo"))
    demo, url = serve(root)
    yield url
    demo.close()

@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)

@pytest.fixture(scope="module")
def empty_client(tmp_path_factory):
    "The app over a folder with no checkpoint at all."
    demo, url = serve(tmp_path_factory.mktemp("empty"))
    yield Client(url, verbose=False)
    demo.close()

@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    f = tmp_path_factory.mktemp("img") / "scene.png"; render(sample_scene(random.Random(0), 128, 3)).save(f)
    return f

def img(f):
    return handle_file(str(f))

# ---- every api_name ---------------------------------------------------------------------------------------------

def test_api_names(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/vqa", "/itm", "/attention", "/new_scene", "/compare", "/teacher", "/detect", "/caption", "/query_attention",
            "/simvlg_caption", "/merge_groups", "/video", "/image_note"} <= names

def test_understand_round_trip(client, image_file):
    ans, top = client.predict(img(image_file), "what colour is the circle?", api_name="/vqa")
    assert isinstance(ans, str) and ans and len(top["confidences"]) == 5 and top["label"] == ans
    assert sum(c["confidence"] for c in top["confidences"]) <= 1.0 + 1e-6
    score = client.predict(img(image_file), "a red circle", api_name="/itm")
    assert 0.0 <= score <= 1.0
    pic, txt = client.predict(img(image_file), "a red circle", "2: red", 0, -1, api_name="/attention")
    assert Image.open(pic).size == (256, 256) and "red" in txt and "layer 0" in txt
    pic, txt = client.predict(img(image_file), "a red circle", "bogus", 0, 0, api_name="/attention")   # unknown token: the default one
    assert Path(pic).exists() and "head 0" in txt
    with pytest.raises(Exception, match="greater than maximum value"):                   # sliders check their own range
        client.predict(img(image_file), "a red circle", "2: red", 99, -1, api_name="/attention")
    assert Image.open(client.predict(api_name="/new_scene")).size == (256, 256)

def test_paper1_round_trip(client, image_file):
    p_top, p_md, r_top, r_md, ratio = client.predict(img(image_file), "how many objects are there?", api_name="/compare")
    assert len(p_top["confidences"]) == 5 and len(r_top["confidences"]) == 5
    assert re.search(r"\d+\.\d ms", p_md) and re.search(r"\d+\.\d ms", r_md) and "image tokens" in r_md and "x**" in ratio
    boxes = client.predict(img(image_file), 0.0, api_name="/teacher")
    assert Path(boxes["image"]).exists() and isinstance(boxes["annotations"], list)

def test_e2evlp_round_trip(client, image_file):
    det = client.predict(img(image_file), 0.0, api_name="/detect")
    assert Image.open(det["image"]).size == (256, 256) and len(det["annotations"]) >= 1     # threshold 0: every query
    assert all(re.search(r"(circle|square|triangle|diamond) \d\.\d\d$", a["label"]) for a in det["annotations"])
    assert isinstance(client.predict(img(image_file), 1, api_name="/caption"), str)
    pic, txt = client.predict(img(image_file), -1, -1, api_name="/query_attention")
    assert Image.open(pic).size == (256, 256) and txt.startswith("query ")

def test_simvlg_round_trip(client, image_file):
    cap, table, timing = client.predict(img(image_file), 4, api_name="/simvlg_caption")
    assert isinstance(cap, str) and "visual tokens" in table and "without merging" in timing and "speed-up" in timing
    counts = [int(n) for n in re.findall(r"\| \d+ \| (\d+) \|", table)]
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0]                # tokens left per layer
    for layer in (0, 3):
        pic, txt = client.predict(img(image_file), layer, api_name="/merge_groups")
        assert Image.open(pic).size[0] >= 256 and "tokens" in txt

def test_video_round_trip(client):
    gif, strip, cap, truth = client.predict(3, api_name="/video")
    g = Image.open(gif)
    assert g.format == "GIF" and g.n_frames >= 2 and Path(strip).exists()
    assert cap.startswith("Generated caption") and truth.count("\n- ") == 3 and re.search(r"moves|stays still", truth)

def test_photo_gets_a_note(client, image_file, tmp_path):
    import matplotlib.cbook
    assert client.predict(img(image_file), api_name="/image_note") == ""                 # a ShapesWorld scene: none
    photo = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    assert "does not look like ShapesWorld" in client.predict(img(photo), api_name="/image_note")
    ans, top = client.predict(img(photo), "what colour is the circle?", api_name="/vqa")  # and it is still answered
    assert ans and len(top["confidences"]) == 5

# ---- missing checkpoints ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("api,args,cmd", [
    ("/vqa", ("IMG", "what colour is the circle?"), "vlp-pretrain --recipe vilt --out"),
    ("/compare", ("IMG", "how many objects are there?"), "vlp-pretrain --recipe region --out"),
    ("/detect", ("IMG", 0.5), "vlp-pretrain --recipe e2evlp --out"),
    ("/caption", ("IMG", 1), "vlp-pretrain --recipe e2evlp --out"),
    ("/query_attention", ("IMG", -1, -1), "vlp-pretrain --recipe e2evlp --out"),
    ("/simvlg_caption", ("IMG", 8), "vlp-pretrain --recipe simvlg --out"),
    ("/merge_groups", ("IMG", 1), "vlp-pretrain --recipe simvlg --out"),
])
def test_missing_checkpoint_says_how_to_make_it(empty_client, image_file, api, args, cmd):
    args = [img(image_file) if a == "IMG" else a for a in args]
    with pytest.raises(Exception, match=re.escape(cmd)): empty_client.predict(*args, api_name=api)

def test_missing_video_model_still_shows_the_clip(empty_client):
    gif, strip, cap, truth = empty_client.predict(5, api_name="/video")
    assert Image.open(gif).n_frames >= 2 and "vlp-pretrain --recipe simvlg-motion --out" in cap and truth.count("\n- ") == 3

# ---- bad inputs -------------------------------------------------------------------------------------------------

def _bad_files(d: Path) -> dict:
    "name -> (path, expected message regex)."
    good = d / "good.png"; render_scene(good)
    raw = good.read_bytes()
    out = {}
    (d / "notes.txt").write_text("this is not an image\n" * 20); out["text file"] = (d / "notes.txt", "not an image")
    (d / "fake.png").write_bytes(b"hello, I am not a PNG" * 10); out["text named .png"] = (d / "fake.png", "not an image")
    (d / "trunc.png").write_bytes(raw[: len(raw) // 2]); out["truncated PNG"] = (d / "trunc.png", "damaged or truncated")
    bad = bytearray(raw); bad[60:200] = os.urandom(140); (d / "garbled.png").write_bytes(bytes(bad))
    out["corrupted PNG"] = (d / "garbled.png", "damaged or truncated|could not be decoded")
    Image.new("RGB", (1, 1), (255, 0, 0)).save(d / "one.png"); out["1x1"] = (d / "one.png", r"too small \(1x1")
    Image.new("L", (5000, 4000), 30).save(d / "large.png"); out["5000x4000"] = (d / "large.png", r"too large.*16,777,216 pixels")
    Image.new("1", (20000, 20000), 0).save(d / "bomb.png"); out["20000x20000 (decompression bomb)"] = (d / "bomb.png", r"too large.*16,777,216")
    return out

def render_scene(f):
    render(sample_scene(random.Random(1), 96, 3)).save(f)

def test_bad_files_get_clear_errors(client, tmp_path, image_file):
    for name, (f, msg) in _bad_files(tmp_path).items():
        with pytest.raises(Exception, match=msg): client.predict(img(f), "what colour is the circle?", api_name="/vqa")
    ans, _ = client.predict(img(image_file), "is there a red circle?", api_name="/vqa")   # the server is still up
    assert ans

@pytest.mark.parametrize("kind", ["grey", "rgba", "palette", "16bit", "cmyk-jpeg", "bilevel-tiff"])
def test_odd_images_are_accepted(client, tmp_path, kind):
    a = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    im, ext = {"grey": (Image.fromarray(a[..., 0], "L"), "png"), "rgba": (Image.fromarray(a).convert("RGBA"), "png"),
               "palette": (Image.fromarray(a).convert("P"), "png"), "16bit": (Image.fromarray(a[..., 0].astype(np.uint16) * 200), "png"),
               "cmyk-jpeg": (Image.fromarray(a).convert("CMYK"), "jpg"), "bilevel-tiff": (Image.fromarray(a).convert("1"), "tif")}[kind]
    f = tmp_path / f"{kind}.{ext}"; im.save(f)
    ans, top = client.predict(img(f), "how many objects are there?", api_name="/vqa")
    assert isinstance(ans, str) and ans and len(top["confidences"]) == 5

@pytest.mark.parametrize("text,msg", [
    ("", "Please type a question"), ("   \n\t ", "Please type a question"),
    ("x" * 5000, "5,000 characters long; the limit is 300"), ("how many " * 400, "characters long; the limit is 300"),
    ("这是什么颜色？", "English"), ("🟥🔵❓", "English"), ("ما لون الدائرة؟", "English"),
])
def test_bad_questions_get_clear_errors(client, image_file, text, msg):
    with pytest.raises(Exception, match=msg): client.predict(img(image_file), text, api_name="/vqa")
    with pytest.raises(Exception, match=msg.replace("question", "caption")): client.predict(img(image_file), text, api_name="/itm")

def test_english_with_emoji_and_accents_is_answered(client, image_file):
    for q in ("what colour is the circle? 🟥", "is there a blue square — ¿sí?", "how many objects\x00 are there?"):
        ans, _ = client.predict(img(image_file), q, api_name="/vqa")
        assert isinstance(ans, str) and ans

def test_no_image_gets_clear_error(client):
    with pytest.raises(Exception, match="upload an image"): client.predict(None, "what colour is the circle?", api_name="/vqa")

# ---- concurrency ------------------------------------------------------------------------------------------------

def test_20_concurrent_requests_all_answered(client, image_file):
    qs = ["what colour is the circle?", "how many objects are there?", "is there a blue square?", "what shape is the red object?"]
    expected = {q: client.predict(img(image_file), q, api_name="/vqa")[0] for q in qs}
    t0 = time.perf_counter()
    jobs = [client.submit(img(image_file), qs[i % 4], api_name="/vqa") for i in range(16)]
    jobs += [client.submit(img(image_file), "a red circle", api_name="/itm") for _ in range(2)]
    jobs += [client.submit(img(image_file), "a red circle", "2: red", 0, -1, api_name="/attention") for _ in range(2)]
    res = [j.result(timeout=300) for j in jobs]
    wall = time.perf_counter() - t0
    assert len(res) == 20 and all(r is not None for r in res)
    assert [r[0] for r in res[:16]] == [expected[qs[i % 4]] for i in range(16)]   # each answer belongs to its own request
    assert all(0 <= r <= 1 for r in res[16:18]) and all("red" in r[1] for r in res[18:])
    print(f"20 concurrent requests answered in {wall:.2f} s")

# ---- a real browser ---------------------------------------------------------------------------------------------


def _settled(page, T):
    "Wait until no output of the page is still processing (Gradio shows 'processing | 1.2s' on pending outputs)."
    from playwright.sync_api import expect
    expect(page.get_by_text(re.compile(r"processing \|"))).to_have_count(0, timeout=T)
    page.wait_for_timeout(800)

def test_browser_clicks_through_every_tab(server, image_file, tmp_path):
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect
    shots = Path(os.environ.get("VLP_SCREENSHOTS") or tmp_path); shots.mkdir(parents=True, exist_ok=True)
    T = int(os.environ.get("VLP_BROWSER_TIMEOUT_S", 300)) * 1000   # per step; a loaded 2-core machine is slow
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server, wait_until="networkidle")
        expect(page.get_by_role("tab", name="Understand")).to_be_visible(timeout=T)
        # upload an image (replacing the default scene)
        clear = page.locator("#image").get_by_role("button", name=re.compile("clear|remove", re.I))
        if clear.count(): clear.first.click()
        page.locator("#image input[type=file]").set_input_files(str(image_file))
        expect(page.locator("#image img").first).to_be_visible(timeout=T)
        page.wait_for_timeout(500)
        # Understand
        page.locator("#ask").click()
        expect(page.locator("#answer textarea, #answer input").first).not_to_have_value("", timeout=T)
        page.get_by_role("button", name="Show attention").click()
        expect(page.get_by_text("mean of heads")).to_be_visible(timeout=T)
        measure = page.locator("#measure_understand")                 # untrained checkpoints have no figures yet
        if measure.is_visible(): measure.click()
        expect(page.locator("#trust_understand")).to_contain_text("VQA accuracy", timeout=T)
        expect(page.locator("#trust_understand")).to_contain_text("held-out ShapesWorld scenes", timeout=T)
        _settled(page, T)
        page.screenshot(path=str(shots / "understand.png"), full_page=True)
        # Paper 1
        page.get_by_role("tab", name="Paper 1").click()
        page.locator("#compare").click()
        expect(page.get_by_text(re.compile(r"the pixel model's time"))).to_be_visible(timeout=T)
        page.wait_for_timeout(1500)
        _settled(page, T)
        page.screenshot(path=str(shots / "paper1.png"), full_page=True)
        # E2E-VLP
        page.get_by_role("tab", name="E2E-VLP").click()
        page.locator("#detect").click()
        expect(page.locator("#e2e_caption textarea, #e2e_caption input").first).not_to_have_value("", timeout=T)
        page.get_by_role("button", name="Show query attention").click()
        expect(page.get_by_text(re.compile(r"^query \d+ of"))).to_be_visible(timeout=T)
        page.wait_for_timeout(1000)
        _settled(page, T)
        page.screenshot(path=str(shots / "e2evlp.png"), full_page=True)
        # SimVLG
        page.get_by_role("tab", name="SimVLG").click()
        page.locator("#simvlg_caption").click()
        expect(page.get_by_text(re.compile("without merging"))).to_be_visible(timeout=T)
        page.get_by_role("button", name="Show merge groups").click()
        expect(page.get_by_text(re.compile(r"each colour-bordered region"))).to_be_visible(timeout=T)
        page.wait_for_timeout(1000)
        _settled(page, T)
        page.screenshot(path=str(shots / "simvlg.png"), full_page=True)
        # Video
        page.get_by_role("tab", name="Video").click()
        page.locator("#show_clip").click()
        expect(page.get_by_text(re.compile(r"moves|stays still")).first).to_be_visible(timeout=T)
        page.wait_for_timeout(1000)
        _settled(page, T)
        page.screenshot(path=str(shots / "video.png"), full_page=True)
        # a bad input in the browser: an empty question gets a readable error, and the page keeps working
        page.get_by_role("tab", name="Understand").click()
        page.get_by_label("question").first.fill("")
        page.locator("#ask").click()
        expect(page.get_by_text("Please type a question").first).to_be_visible(timeout=T)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "error.png"), full_page=False)
        browser.close()
    for n in ("understand", "paper1", "e2evlp", "simvlg", "video", "error"):
        assert (shots / f"{n}.png").stat().st_size > 10_000


def test_browser_trains_a_missing_checkpoint(tmp_path):
    "Understand without its VQA head: Train starts the job (3 steps), a reload finds it, the tab gets the checkpoint."
    sync_playwright = _browser_or_skip()
    from playwright.sync_api import expect
    torch.manual_seed(0)
    PixelVLP(tiny(), pretrained=False).save_pretrained(tmp_path / "demo" / "pretrain")
    demo, url = serve(tmp_path / "demo", train_steps=3)
    T = int(os.environ.get("VLP_BROWSER_TIMEOUT_S", 300)) * 1000
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="networkidle")
            expect(page.locator("#status_understand")).to_contain_text("Missing checkpoint", timeout=T)
            expect(page.locator("#train_understand")).to_have_text("Train it here (vqa)", timeout=T)
            page.locator("#train_understand").click()
            expect(page.locator("#progress_understand")).to_contain_text("vlp-finetune vqa --init", timeout=T)
            expect(page.locator("#train_understand")).to_be_hidden(timeout=T)          # one job per checkpoint
            page.reload()                                                              # the job is found again
            expect(page.locator("#status_understand")).to_contain_text(re.compile("Training vqa|Checkpoints:"),
                                                                        timeout=T)
            expect(page.locator("#trust_understand")).to_contain_text("VQA accuracy", timeout=T)   # done, measured
            expect(page.locator("#status_understand")).to_contain_text("Checkpoints:", timeout=T)
            page.locator("#ask").click()                                               # and the tab answers
            expect(page.locator("#answer textarea, #answer input").first).not_to_have_value("", timeout=T)
            browser.close()
    finally:
        demo.close()
    assert (tmp_path / "demo" / "vqa" / "demo_eval.json").is_file() and not (tmp_path / "demo" / "vqa.tmp").exists()
