"The Gradio app over loopback: every api_name answers, bad inputs get a clear gr.Error, the server stays up."
import socket, threading
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    import sys
    from vlp_edu.core import tiny
    from vlp_edu.cli import pretrain_vilt, finetune
    root = tmp_path_factory.mktemp("demo")
    p = tiny().replace(**{"train.steps": 3, "train.batch_size": 8, "data.n_train": 64, "data.n_val": 16})
    pretrain_vilt(p, root / "pretrain", device="cpu", progress=False)
    finetune("vqa", root / "pretrain", root / "vqa", steps=2, device="cpu", progress=False)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gradio_app"))
    from app import build_demo
    from gradio_client import Client
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    demo = build_demo(root)
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    demo.close()

@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    from vlp_edu.data import render, sample_scene
    import random
    f = tmp_path_factory.mktemp("img") / "scene.png"; render(sample_scene(random.Random(0), 128, 3)).save(f)
    return f

def test_vqa_itm_attention_round_trip(client, image_file):
    from gradio_client import handle_file
    ans, top = client.predict(handle_file(str(image_file)), "what colour is the circle?", api_name="/vqa")
    assert isinstance(ans, str) and ans and len(top["confidences"]) == 5
    assert abs(sum(c["confidence"] for c in top["confidences"])) <= 1.0 + 1e-6
    score = client.predict(handle_file(str(image_file)), "a red circle", api_name="/itm")
    assert 0.0 <= score <= 1.0
    img, txt = client.predict(handle_file(str(image_file)), "a red circle", "2: red", 0, -1, api_name="/attention")
    assert Path(img).exists() and "red" in txt

@pytest.mark.parametrize("kind", ["grey", "rgba", "palette", "16bit", "tiny1x1"])
def test_odd_images_are_accepted(client, tmp_path, kind):
    from gradio_client import handle_file
    a = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    im = {"grey": Image.fromarray(a[..., 0], "L"), "rgba": Image.fromarray(a).convert("RGBA"), "palette": Image.fromarray(a).convert("P"),
          "16bit": Image.fromarray((a[..., 0].astype(np.uint16) * 200), "I;16"), "tiny1x1": Image.new("RGB", (1, 1), (255, 0, 0))}[kind]
    f = tmp_path / f"{kind}.png"; im.save(f)
    ans, _ = client.predict(handle_file(str(f)), "how many objects are there?", api_name="/vqa")
    assert isinstance(ans, str) and ans

@pytest.mark.parametrize("question,msg", [("", "type a question"), ("x" * 5000, "limit")])
def test_bad_text_gets_clear_error(client, image_file, question, msg):
    from gradio_client import handle_file
    with pytest.raises(Exception, match=msg): client.predict(handle_file(str(image_file)), question, api_name="/vqa")
    ans, _ = client.predict(handle_file(str(image_file)), "is there a red circle?", api_name="/vqa")   # still up
    assert ans

def test_non_latin_text(client, image_file):
    from gradio_client import handle_file
    ans, _ = client.predict(handle_file(str(image_file)), "这是什么颜色? 🟥", api_name="/vqa")
    assert isinstance(ans, str)
