"""vlp_edu's Gradio app: ask questions about a ShapesWorld (or your own) image, score captions, and see where each word looks.
Run with `make demo` or `vlp-demo [--ckpt DIR --port 7860]`; `build_demo(root)` returns the `gr.Blocks`."""
from __future__ import annotations
import io, random, sys
from functools import lru_cache
from pathlib import Path
import numpy as np
import torch
import gradio as gr
from PIL import Image, UnidentifiedImageError
from vlp_edu.core import offline
from vlp_edu.data import ShapesWorld, sample_scene, render
from vlp_edu.objectives import PixelVLP
from vlp_edu.downstream import VQAModel
from vlp_edu.viz import text_to_image_attention, attention_overlay
from vlp_edu.text import get_tokenizer

offline()
MAX_PIXELS = 4096 * 4096      # larger images are refused with this limit named
MAX_QUESTION_CHARS = 300      # longer text is refused (the model reads at most max_text_len tokens)

def to_tensor(img, size: int) -> torch.Tensor:
    "Any PIL image (any mode, any size up to MAX_PIXELS) → (3, size, size) float in [0, 1]; clear errors otherwise."
    if img is None: raise gr.Error("Please upload an image or press 'New random scene'.")
    if isinstance(img, np.ndarray): img = Image.fromarray(img)
    if not isinstance(img, Image.Image): raise gr.Error("That input is not an image.")
    if img.width * img.height > MAX_PIXELS:
        raise gr.Error(f"Image too large ({img.width}x{img.height}); the limit is {MAX_PIXELS:,} pixels. Please downscale it.")
    if img.mode in ("I;16", "I;16B", "I", "F"):
        a = np.asarray(img, dtype=np.float64); a = (a - a.min()) / (np.ptp(a) + 1e-9) * 255
        img = Image.fromarray(a.astype(np.uint8))
    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA"); bg = Image.new("RGBA", img.size, (0, 0, 0, 255)); img = Image.alpha_composite(bg, img)
    img = img.convert("RGB").resize((size, size), Image.BILINEAR)
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float() / 255.0

def check_text(text: str, what: str) -> str:
    "Strip and validate a question or caption."
    text = (text or "").strip()
    if not text: raise gr.Error(f"Please type a {what}.")
    if len(text) > MAX_QUESTION_CHARS: raise gr.Error(f"The {what} is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return text

class Models:
    "The demo's models, loaded once."
    def __init__(self, root):
        root = Path(root)
        missing = [p for p in (root / "pretrain" / "model.safetensors", root / "vqa" / "model.safetensors") if not p.exists()]
        if missing: raise FileNotFoundError(f"demo checkpoint incomplete ({missing[0]} missing): run `make demo` once to train it")
        self.vlp = PixelVLP.from_pretrained(root / "pretrain").eval()
        self.vqa = VQAModel.from_pretrained(root / "vqa").eval()
        self.size = self.vlp.cfg.image_size

def new_scene(seed=None):
    "A fresh random ShapesWorld scene as a PIL image."
    rng = random.Random(seed)
    return render(sample_scene(rng, 256, 3))

def build_demo(root="runs/demo") -> gr.Blocks:
    "The app: VQA, ITM score and text-to-image attention on one image."
    M = Models(root)
    tok = get_tokenizer()

    def vqa(img, question):
        x = to_tensor(img, M.size); q = check_text(question, "question")
        top = M.vqa.predict(x[None], [q], topk=5)[0]
        return top[0][0], {a: p for a, p in top}

    def itm(img, caption):
        x = to_tensor(img, M.size); c = check_text(caption, "caption")
        from vlp_edu.text import tokenize
        ids, mask = tokenize(tok, [c], M.vlp.cfg.max_text_len)
        with torch.no_grad(): p = M.vlp.itm_logits(x[None], ids, mask).softmax(-1)[0, 1]
        return round(float(p), 4)

    def tokens_of(caption):
        c = (caption or "").strip()
        if not c: return gr.update(choices=[], value=None)
        toks = tok.convert_ids_to_tokens(tok(c, truncation=True, max_length=M.vlp.cfg.max_text_len)["input_ids"])
        choices = [f"{i}: {t}" for i, t in enumerate(toks)]
        return gr.update(choices=choices, value=choices[min(2, len(choices) - 1)])

    def attention(img, caption, token, layer, head):
        x = to_tensor(img, M.size); c = check_text(caption, "caption")
        maps, toks = text_to_image_attention(M.vlp, x, c)
        t = int(str(token).split(":")[0]) if token else min(2, len(toks) - 1)
        t = min(t, len(toks) - 1)
        layer = min(int(layer), maps.shape[1] - 1)
        m = maps[t, layer].mean(0) if int(head) < 0 else maps[t, layer, min(int(head), maps.shape[2] - 1)]
        big = torch.nn.functional.interpolate(x[None], size=256, mode="nearest")[0]
        return attention_overlay(big, m), f"'{toks[t]}', layer {layer}, " + ("mean of heads" if int(head) < 0 else f"head {int(head)}")

    n_layers, n_heads = M.vlp.cfg.n_layers, M.vlp.cfg.n_heads
    with gr.Blocks(title="vlp_edu: vision-language pretraining from pixels") as demo:
        gr.Markdown("# vlp_edu demo\nA pixel-based vision-language model pretrained on ShapesWorld (MLM + ITM + ITC), "
                    "fine-tuned for VQA. Ask about colours, shapes, counts, sizes and positions.")
        with gr.Row():
            with gr.Column(scale=1):
                image = gr.Image(type="pil", label="image", value=new_scene(0), image_mode=None, height=300)
                btn = gr.Button("New random scene")
            with gr.Column(scale=1):
                question = gr.Textbox(label="question", value="what colour is the circle?")
                ask = gr.Button("Answer", variant="primary")
                answer = gr.Textbox(label="answer")
                top5 = gr.Label(label="top-5 answers", num_top_classes=5)
        with gr.Row():
            with gr.Column(scale=1):
                caption = gr.Textbox(label="caption", value="a red circle")
                score_btn = gr.Button("ITM score")
                score = gr.Number(label="P(caption matches image)")
            with gr.Column(scale=1):
                token = gr.Dropdown(label="text token", choices=[], allow_custom_value=True)
                layer = gr.Slider(0, n_layers - 1, value=n_layers - 1, step=1, label="layer")
                head = gr.Slider(-1, n_heads - 1, value=-1, step=1, label="head (-1: mean)")
                att_btn = gr.Button("Show attention")
                att_img = gr.Image(label="token attention over the image", height=260)
                att_txt = gr.Markdown()
        gr.Examples([["what colour is the circle?"], ["how many objects are there?"], ["is there a blue square?"]], inputs=[question])
        btn.click(lambda: new_scene(None), None, image, api_name="new_scene")
        ask.click(vqa, [image, question], [answer, top5], api_name="vqa")
        question.submit(vqa, [image, question], [answer, top5])
        score_btn.click(itm, [image, caption], score, api_name="itm")
        caption.change(tokens_of, caption, token)
        att_btn.click(attention, [image, caption, token, layer, head], [att_img, att_txt], api_name="attention")
        demo.load(tokens_of, caption, token)
    return demo

if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/demo"
    build_demo(root).queue().launch(server_name="127.0.0.1", server_port=7860)
