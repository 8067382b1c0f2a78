"""vlp_edu's Gradio app: every model of the course on one image (or one clip), with its attention and its predictions.

Tabs: Understand (pixel VLP: VQA with top-5, ITM, a word's attention), Paper 1 (pixel model vs region-feature baseline,
timed, and the teacher's boxes), E2E-VLP (detection, caption, an object query's cross-attention), SimVLG (caption from a
frozen LLM, ToMe merge groups per layer, tokens left, time with and without merging) and Video (a ShapesWorld clip and
its caption). Each tab loads its checkpoint from `<root>/<name>` on first use; a missing one is reported with the command
that makes it, and every bad input gets a `gr.Error` a person can act on. Run with `make demo` or
`vlp-demo [--ckpt DIR --port 7860]`; `build_demo(root)` returns the `gr.Blocks`."""
from __future__ import annotations
import functools, importlib, importlib.util, json, logging, random, re, statistics, sys, tempfile, threading, time, traceback, unicodedata
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
import gradio as gr
from PIL import Image, UnidentifiedImageError
from vlp_edu.core import offline, cache_dir
from vlp_edu.data import sample_scene, render, sample_clip, render_clip, clip_captions, image_to_tensor, SHAPES, COLOURS, SIZES
from vlp_edu.text import get_tokenizer, tokenize

offline()
log = logging.getLogger("vlp_edu.app")
MAX_PIXELS = 4096 * 4096      # larger images are refused with this limit named (decoding them would take seconds and GBs)
MIN_SIDE = 8                  # smaller images hold nothing to ask about
MAX_TEXT_CHARS = 300          # longer questions/captions are refused (the models read at most 24 tokens)
DISPLAY = 256                 # side of the pictures the app draws
EXAMPLES = Path(__file__).resolve().parent / "examples"
_TMP = Path(tempfile.mkdtemp(prefix="vlp_edu_app_"))

# ---------------------------------------------------------------------------------------------------------------------
# Input checks: every bad input becomes a gr.Error that says what is wrong and what to do.

def err(message: str, sticky: bool = False) -> gr.Error:
    "A gr.Error for the person using the app (no server traceback: the input was wrong, not the code); sticky stays until closed."
    return gr.Error(message, duration=None if sticky else 15, print_exception=False)

def image_input(**kw) -> gr.Image:
    "A gr.Image whose decoding errors (not an image, damaged bytes, a decompression bomb) reach the user as a clear gr.Error."
    comp = gr.Image(**kw)
    decode = comp.preprocess
    def preprocess(payload):
        try: return decode(payload)
        except gr.Error: raise
        except Image.DecompressionBombError:
            raise err(f"This image is far too large to open; the limit is {MAX_PIXELS:,} pixels ({_side()}). "
                      "Please downscale it.") from None
        except UnidentifiedImageError:
            raise err("That file is not an image this app can read. Please upload a PNG, JPEG, GIF, BMP, WebP or TIFF "
                      "picture.") from None
        except Exception as e:   # truncated / damaged files raise OSError, SyntaxError, ValueError, struct.error, ...
            raise err(f"The image file is damaged or truncated and could not be decoded ({type(e).__name__}). "
                      "Please upload another copy of it.") from None
    comp.preprocess = preprocess   # an instance attribute: a gr.Image subclass would make Gradio write a .pyi stub here
    return comp

def _side() -> str:
    s = int(MAX_PIXELS ** 0.5)
    return f"e.g. {s}x{s}"

def to_image(img) -> Image.Image:
    "Check an uploaded image and convert any mode (grey, RGBA, palette, 16-bit, CMYK, ...) to RGB."
    if img is None: raise err("Please upload an image, pick an example, or press 'New random scene'.")
    if isinstance(img, np.ndarray): img = Image.fromarray(img)
    if isinstance(img, (str, Path)):
        try: img = Image.open(img)
        except Exception: raise err("That file is not an image this app can read. Please upload a PNG or JPEG picture.") from None
    if not isinstance(img, Image.Image): raise err("That input is not an image.")
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise err(f"Image too large ({w}x{h} = {w * h:,} pixels); the limit is {MAX_PIXELS:,} pixels ({_side()}). "
                       "Please downscale it.")
    if min(w, h) < MIN_SIDE:
        raise err(f"Image too small ({w}x{h} pixels); it needs at least {MIN_SIDE}x{MIN_SIDE} pixels to show anything. "
                       "Please upload a larger picture.")
    try:
        img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):                    # 16/32-bit grey: stretch to 8 bits
            a = np.asarray(img, dtype=np.float64); a = (a - a.min()) / (np.ptp(a) + 1e-9) * 255
            img = Image.fromarray(a.astype(np.uint8))
        if img.mode in ("RGBA", "LA", "La", "RGBa", "P", "PA") or "transparency" in img.info:  # transparent: on the dark canvas
            img = Image.alpha_composite(Image.new("RGBA", img.size, (20, 20, 28, 255)), img.convert("RGBA"))
        return img.convert("RGB")
    except gr.Error: raise
    except Exception as e:
        raise err(f"The image could not be decoded ({type(e).__name__}: {str(e)[:80]}); the file may be damaged or "
                       f"in an unusual colour mode ({img.mode}). Please save it as an ordinary RGB PNG or JPEG.") from None

def to_tensor(img, size: int) -> torch.Tensor:
    "Any image input → (3, size, size) float in [0, 1]; clear errors otherwise."
    return image_to_tensor(to_image(img).resize((size, size), Image.BILINEAR))

def big(x: torch.Tensor, side: int = DISPLAY) -> Image.Image:
    "A (3, s, s) image tensor shown at `side` pixels (nearest, so pixels stay crisp)."
    a = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    return Image.fromarray(a).resize((side, side), Image.NEAREST)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

def check_text(text, what: str = "question") -> str:
    "Strip and validate a question or caption: not empty, not too long, and in English (the models' only language)."
    if text is None: text = ""
    if not isinstance(text, str): raise err(f"The {what} must be text.")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text)).strip()
    example = "a red circle left of a blue square" if what == "caption" else "what colour is the circle?"
    if not text: raise err(f"Please type a {what} (for example: '{example}').")
    if len(text) > MAX_TEXT_CHARS:
        raise err(f"The {what} is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS} characters "
                       "(the model reads at most 24 tokens). Please shorten it.")
    if not re.search(r"[A-Za-z]{2,}", text):
        raise err(f"The models were trained on English {what}s about coloured shapes only, and this {what} has no "
                       f"English word (emoji and non-Latin scripts read as unknown tokens). Try: '{example}'")
    return text

def _int(v, name: str, lo: int, hi: int) -> int:
    "An integer input clamped to [lo, hi]; a clear error if it is not a number."
    try: v = int(round(float(v)))
    except (TypeError, ValueError): raise err(f"'{name}' must be a number, got {str(v)[:40]!r}.") from None
    return max(lo, min(hi, v))

def friendly(fn):
    "Turn an unexpected exception inside a handler into a gr.Error (the server keeps running); gr.Error passes through."
    @functools.wraps(fn)
    def wrapper(*args, **kw):
        try: return fn(*args, **kw)
        except gr.Error: raise
        except Exception as e:
            log.error("handler %s failed:\n%s", fn.__name__, traceback.format_exc())
            raise err(f"The model failed on this input ({type(e).__name__}: {str(e)[:200]}). The app is still running; "
                           "please try another image or text.") from None
    return wrapper

# ---------------------------------------------------------------------------------------------------------------------
# Checkpoints: loaded on first use from <root>/<name>; a missing one says how to make it.

MAKE = {
    "pretrain": "vlp-pretrain --recipe vilt --out {root}/pretrain",
    "vqa": "vlp-finetune vqa --init {root}/pretrain --out {root}/vqa",
    "region": "vlp-pretrain --recipe region --out {root}/region",
    "region-vqa": "vlp-finetune vqa --init {root}/region --out {root}/region-vqa",
    "visual-losses": "vlp-pretrain --recipe visual-losses --out {root}/visual-losses",
    "visual-losses-vqa": "vlp-finetune vqa --init {root}/visual-losses --out {root}/visual-losses-vqa",
    "e2evlp": "vlp-pretrain --recipe e2evlp --out {root}/e2evlp",
    "simvlg": "vlp-pretrain --recipe simvlg --out {root}/simvlg",
    "simvlg-video": "vlp-pretrain --recipe simvlg-video --out {root}/simvlg-video",
}
MAKE["teacher"] = MAKE["region"]
MODULES = {"region": "vlp_edu.region", "region-vqa": "vlp_edu.region", "visual-losses": "vlp_edu.visual_losses",
           "e2evlp": "vlp_edu.e2evlp", "simvlg": "vlp_edu.simvlg", "simvlg-video": "vlp_edu.simvlg"}

class Checkpoints:
    "The app's models, each loaded once (thread-safe) from `root/name`, with a clear message when one is missing."
    def __init__(self, root):
        self.root, self.cache, self.lock = Path(root), {}, threading.Lock()

    def has(self, name: str) -> bool: return (self.root / name / "model.safetensors").is_file()

    def missing(self, *names) -> list[str]:
        "The names among `names` whose checkpoint (or code module) is not there."
        out = []
        for n in names:
            mod = MODULES.get(n)
            if mod and importlib.util.find_spec(mod) is None: out.append(n)
            elif not self.has(n): out.append(n)
        return out

    def message(self, what: str, names) -> str:
        "How to make the missing checkpoints `names` of the tab `what` (Markdown)."
        cmds, notes = [], []
        for n in names:
            mod = MODULES.get(n)
            if mod and importlib.util.find_spec(mod) is None:
                notes.append(f"this version of vlp_edu has no `{mod}` module yet, so it cannot make `{self.root / n}`")
            cmds.append(MAKE[n].format(root=self.root))
        msg = f"{what} needs a checkpoint that is not there yet ({', '.join(str(self.root / n) for n in names)}). Make it with: " \
              + " && ".join(f"`{c}`" for c in cmds) + " (a few minutes on a CPU at the tiny preset; add `--preset small` for a better one), then press the button again."
        return msg + (" Note: " + "; ".join(notes) + "." if notes else "")

    def require(self, what: str, *names):
        "Raise a gr.Error naming the commands when a checkpoint is missing."
        m = self.missing(*names)
        if m: raise err(self.message(what, m), sticky=True)

    def get(self, name: str, loader):
        "The model `name`, made by `loader(path)` once."
        with self.lock:
            if name not in self.cache:
                try: self.cache[name] = loader(self.root / name)
                except (FileNotFoundError, ValueError, RuntimeError, KeyError, OSError) as e:
                    raise err(f"Could not load the checkpoint in {self.root / name}: {str(e)[:300]}. Re-make it with "
                                   f"`{MAKE.get(name, '?').format(root=self.root)}`.") from None
            return self.cache[name]

def _pixel_vqa(path):
    from vlp_edu.downstream import VQAModel
    return VQAModel.from_pretrained(path).eval()

def _pixel_vlp(path):
    from vlp_edu.objectives import PixelVLP
    return PixelVLP.from_pretrained(path).eval()

def _backbone(path):
    "Any pretrained backbone run folder (pixel, region, visual-loss, E2E-VLP) through vlp_edu.cli.load_pretrained when present."
    try: from vlp_edu.cli import load_pretrained
    except ImportError: load_pretrained = None
    if load_pretrained is not None: return load_pretrained(path)
    d = json.loads((Path(path) / "config.json").read_text())
    if d.get("model_type") == "region_vlp" or "teacher" in d:
        from vlp_edu.region import RegionVLP
        return RegionVLP.from_pretrained(path)
    return _pixel_vlp(path)

def _region_vqa(root):
    "The region baseline's VQA model from `root/region-vqa` (its vqa.json names the backbone; older runs: the RegionVLP of `root/region`)."
    def load(path):
        from vlp_edu.downstream import VQAModel
        from vlp_edu.learner import load_weights
        meta = json.loads((Path(path) / "vqa.json").read_text())
        if meta.get("backbone", {}).get("model_type") == "region_vlp": return VQAModel.from_pretrained(path).eval()
        if not (Path(root) / "region" / "model.safetensors").is_file():
            raise FileNotFoundError(f"{path} does not say which backbone it fine-tuned and {Path(root) / 'region'} is missing")
        m = VQAModel(_backbone(Path(root) / "region"), meta["answers"])
        return load_weights(m, Path(path) / "model.safetensors").eval()
    return load

def _e2evlp(path):
    from vlp_edu.e2evlp import E2EVLP
    return E2EVLP.from_pretrained(path).eval()

def _simvlg(path):
    from vlp_edu.simvlg import SimVLG
    return SimVLG.from_pretrained(path).eval()

def _teacher(root):
    "The region teacher: the one inside the region baseline, else the cached trained teacher of the tiny/small preset."
    ck = Checkpoints(root)
    if ck.has("region"):
        return _backbone(Path(root) / "region").teacher
    from vlp_edu.region import RegionTeacher
    for p in ("tiny", "small", "base"):
        d = cache_dir() / "region_teacher" / p
        if (d / "model.safetensors").is_file(): return RegionTeacher.from_pretrained(d)
    raise FileNotFoundError("no trained teacher")

def _config(path, *keys, default=None):
    "A value from a run folder's JSON config (no weights loaded), e.g. the number of layers for a slider's range."
    try:
        d = json.loads(Path(path).read_text())
        for k in keys: d = d[k]
        return int(d)
    except Exception: return default

def new_scene(seed=None, size: int = DISPLAY) -> Image.Image:
    "A fresh random ShapesWorld scene as a PIL image."
    return render(sample_scene(random.Random(seed), size, 3))

def _median_ms(fn, n: int = 3):
    "fn() once untimed, then its median wall time over n calls in milliseconds; returns (last result, ms)."
    out = fn(); ts = []
    for _ in range(n):
        t = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t)
    return out, 1000 * statistics.median(ts)

def _describe(label: int, colour: int | None, size: int | None) -> str:
    parts = [SIZES[size] if size is not None and 0 <= size < len(SIZES) else None,
             COLOURS[colour] if colour is not None and 0 <= colour < len(COLOURS) else None,
             SHAPES[label] if 0 <= label < len(SHAPES) else f"class {label}"]
    return " ".join(p for p in parts if p)

def _boxes_to_display(boxes: torch.Tensor, size: int) -> list[tuple[int, int, int, int]]:
    s = DISPLAY / size
    return [tuple(int(round(float(v) * s)) for v in b.clamp(0, size)) for b in boxes]

def heat_overlay(x: torch.Tensor, att: torch.Tensor) -> Image.Image:
    "An attention map (h, w) blended over the image x (3, s, s), at DISPLAY pixels."
    from vlp_edu.viz import attention_overlay
    up = F.interpolate(x[None], size=DISPLAY, mode="nearest")[0]
    return Image.fromarray(attention_overlay(up, att.float()))

# ---------------------------------------------------------------------------------------------------------------------

def build_demo(root="runs/demo") -> gr.Blocks:
    "The app over the checkpoints in `root` (pretrain/, vqa/, region/, region-vqa/, e2evlp/, simvlg/, simvlg-video/, ...)."
    root = Path(root)
    ck = Checkpoints(root)
    tok = get_tokenizer()
    att_lock, e2e_lock, simvlg_lock = threading.Lock(), threading.Lock(), threading.Lock()

    # ---- Understand ------------------------------------------------------------------------------------------------
    def understand():
        ck.require("The Understand tab", "pretrain", "vqa")
        return ck.get("pretrain", _pixel_vlp), ck.get("vqa", _pixel_vqa)

    @friendly
    def vqa(img, question):
        vlp, vq = understand()
        x = to_tensor(img, vq.vlp.cfg.image_size); q = check_text(question, "question")
        top = vq.predict(x[None], [q], topk=5)[0]
        return top[0][0], {a: p for a, p in top}

    @friendly
    def itm(img, caption):
        vlp, _ = understand()
        x = to_tensor(img, vlp.cfg.image_size); c = check_text(caption, "caption")
        ids, mask = tokenize(tok, [c], vlp.cfg.max_text_len)
        with att_lock, torch.no_grad(): p = vlp.itm_logits(x[None], ids, mask).softmax(-1)[0, 1]
        return round(float(p), 4)

    def tokens_of(caption):
        c = (caption or "").strip()[:MAX_TEXT_CHARS]
        if not c: return gr.update(choices=[], value=None)
        toks = tok.convert_ids_to_tokens(tok(c, truncation=True, max_length=24)["input_ids"])
        choices = [f"{i}: {t}" for i, t in enumerate(toks)]
        return gr.update(choices=choices, value=choices[min(2, len(choices) - 1)])

    @friendly
    def attention(img, caption, token, layer, head):
        from vlp_edu.viz import text_to_image_attention
        vlp, _ = understand()
        x = to_tensor(img, vlp.cfg.image_size); c = check_text(caption, "caption")
        with att_lock: maps, toks = text_to_image_attention(vlp, x, c)     # (T, layers, heads, g, g): hooks are shared state
        m = re.match(r"\s*(\d+)", str(token or ""))
        t = min(int(m.group(1)) if m else min(2, len(toks) - 1), len(toks) - 1)
        layer = _int(layer, "layer", 0, maps.shape[1] - 1)
        head = _int(head, "head", -1, maps.shape[2] - 1)
        a = maps[t, layer].mean(0) if head < 0 else maps[t, layer, head]
        return heat_overlay(x, a), f"'{toks[t]}', layer {layer}, " + ("mean of heads" if head < 0 else f"head {head}")

    # ---- Paper 1 ---------------------------------------------------------------------------------------------------
    def pixel_side():
        name = "visual-losses-vqa" if ck.has("visual-losses-vqa") else "vqa"
        ck.require("The Paper 1 tab (pixel model)", name)
        label = ("pixel model + the 3 visual losses" if name == "visual-losses-vqa" else "pixel model (ViLT recipe, no visual losses)")
        return ck.get(name, _pixel_vqa), f"{label}, `{root / name}`"

    @friendly
    def compare(img, question):
        q = check_text(question, "question")
        if ck.missing("region-vqa"):                                           # both commands when the pretrained run is missing too
            raise err(ck.message("The Paper 1 tab (region baseline)", ck.missing("region", "region-vqa")), sticky=True)
        pix, plabel = pixel_side()
        reg = ck.get("region-vqa", _region_vqa(root))
        res = []
        for m in (pix, reg):
            x = to_tensor(img, m.vlp.cfg.image_size)
            top, ms = _median_ms(lambda: m.predict(x[None], [q], topk=5)[0])
            enc = m.vlp.encoder
            n_img = enc.top_k + 1 if hasattr(enc, "top_k") else m.vlp.encode_image(x[None]).shape[1]   # region: [CLS] + K slots
            res.append(({a: p for a, p in top}, ms, n_img))
        (tp, msp, np_), (tr, msr, nr) = res
        md_p = f"**{max(tp, key=tp.get)}** in **{msp:.1f} ms** ({np_} image tokens; {plabel})"
        md_r = f"**{max(tr, key=tr.get)}** in **{msr:.1f} ms** ({nr} image tokens from the detector; `{root / 'region-vqa'}`)"
        ratio = f"The region pipeline took **{msr / max(msp, 1e-6):.1f}x** the pixel model's time on this image (median of 3, CPU)."
        return tp, md_p, tr, md_r, ratio

    @friendly
    def teacher_boxes(img, min_score):
        if importlib.util.find_spec("vlp_edu.region") is None or not (ck.has("region") or ck.has("region-vqa") or any(
                (cache_dir() / "region_teacher" / p / "model.safetensors").is_file() for p in ("tiny", "small", "base"))):
            raise err(ck.message("The teacher's boxes", ["region"]), sticky=True)
        if ck.has("region-vqa"):                                               # the baseline's own (frozen) detector, loaded once
            teacher = ck.get("region-vqa", _region_vqa(root)).vlp.teacher
        else: teacher = ck.get("teacher", lambda _: _teacher(root))
        s = teacher.cfg.image_size
        x = to_tensor(img, s)
        d = teacher.extract(x[None], top_k=10, min_score=_int(100 * float(min_score or 0), "min score", 0, 100) / 100)[0]
        ann = [(b, f"{i}: {_describe(int(l), int(c.argmax()), int(z.argmax()))} {float(sc):.2f}")
               for i, (b, l, c, z, sc) in enumerate(zip(_boxes_to_display(d["boxes"], s), d["labels"], d["colour_probs"],
                                                        d["size_probs"], d["scores"]))]
        return big(x), ann

    # ---- E2E-VLP ---------------------------------------------------------------------------------------------------
    def e2e():
        ck.require("The E2E-VLP tab", "e2evlp")
        return ck.get("e2evlp", _e2evlp)

    @friendly
    def detect(img, threshold):
        m = e2e(); s = m.cfg.image_size
        x = to_tensor(img, s)
        thr = _int(100 * float(threshold if threshold is not None else 0.5), "threshold", 0, 99) / 100
        with e2e_lock: d = m.detect(x[None], threshold=thr)[0]
        order = d["scores"].argsort(descending=True)
        attrs = d.get("attrs", {})
        ann = []
        for i in order.tolist():
            c = int(attrs["colour"][i]) if "colour" in attrs else None
            z = int(attrs["size"][i]) if "size" in attrs else None
            ann.append((_boxes_to_display(d["boxes"][i:i + 1], s)[0], f"{_describe(int(d['labels'][i]), c, z)} {float(d['scores'][i]):.2f}"))
        return big(x), ann

    @friendly
    def caption(img, beam):
        m = e2e()
        x = to_tensor(img, m.cfg.image_size)
        with e2e_lock: return m.caption(x[None], beam_size=_int(beam, "beam size", 1, 5))[0]

    @friendly
    def query_attention(img, query, layer):
        from vlp_edu.e2evlp import CrossAttnRecorder
        from vlp_edu.detection import post_process
        m = e2e(); s = m.cfg.image_size
        x = to_tensor(img, s)
        with e2e_lock, torch.no_grad(), CrossAttnRecorder(m.decoder) as rec:
            mem = m.image_memory(m.encode_image(x[None]), m.encoder.grid_shape(s, s))   # (1, 1+h*w, d) image-only memory
            out = m.decoder.detect(mem)
        att = rec.attentions                                                   # per layer (1, heads, Q, 1+h*w)
        layer = _int(layer, "layer", -1, len(att) - 1)
        probs = out["pred_logits"].softmax(-1)[0, :, :-1]                      # (Q, C)
        q = _int(query, "query", -1, probs.shape[0] - 1)
        if q < 0: q = int(probs.max(-1).values.argmax())                      # -1: the most confident query
        a = att[layer][0].mean(0)[q]                                           # (1+h*w,) mean over heads
        gh, gw = m.encoder.grid_shape(s, s)
        img_out = heat_overlay(x, a[1:].view(gh, gw))
        det = post_process({k: v for k, v in out.items() if k != "aux_outputs"}, s)[0]
        c = int(det["attrs"]["colour"][q]) if "colour" in det["attrs"] else None
        z = int(det["attrs"]["size"][q]) if "size" in det["attrs"] else None
        L = layer if layer >= 0 else len(att) - 1
        return img_out, (f"query {q} of {probs.shape[0]}: {_describe(int(det['labels'][q]), c, z)} (score {float(det['scores'][q]):.2f}); "
                         f"decoder layer {L}, mean of heads, over the {gh}x{gw} grid; {float(a[0]):.2f} of it on the image [CLS]")

    # ---- SimVLG ----------------------------------------------------------------------------------------------------
    def simvlg():
        ck.require("The SimVLG tab", "simvlg")
        return ck.get("simvlg", _simvlg)

    def merge_trace(m, x):
        "The TomeFormer layer by layer: the source map (1, N_l, N_0) after each layer (index 0: before merging)."
        from vlp_edu.tome import ToMeState
        tf = m.tomeformer
        wavg = tf.merge == "wavg"
        with torch.no_grad():
            v = m.encoder(x[None])                                             # (1, N0, C)
            st = ToMeState(class_token=True, prop_attn=wavg, weighted=wavg, trace_source=True)
            h = tf.in_norm(tf.in_proj(v) + tf.pos)                             # (1, N0, d)
            srcs = [torch.eye(h.shape[1])[None]]
            for layer, r in zip(tf.layers, tf.schedule()):
                h, st = layer(h, st, r)
                srcs.append(st.source.clone() if st.source is not None else srcs[-1])
        return srcs

    @friendly
    def simvlg_caption(img, max_tokens):
        m = simvlg(); cfg = m.config
        x = to_tensor(img, cfg.image_size)
        n = _int(max_tokens, "max new tokens", 1, 32)
        r0 = m.tomeformer.r
        def caption(r):
            m.tomeformer.r = r
            return m.generate(x[None], max_new_tokens=n)[0]
        def ms(r):                                                             # exactly n tokens: both settings do the same work
            m.tomeformer.r = r
            t = time.perf_counter(); m.generate(x[None], max_new_tokens=n, min_new_tokens=n)
            return 1000 * (time.perf_counter() - t)
        with simvlg_lock:                                                      # .r is shared state: one request at a time
            try:
                cap, cap0 = caption(r0), caption(0)                            # (also the warm-up)
                runs = [(ms(r0), ms(0)) for _ in range(3)]                     # interleaved, so both see the same machine load
            finally: m.tomeformer.r = r0
        ms_merge, ms_full = (statistics.median(r[i] for r in runs) for i in (0, 1))
        tpl = cfg.tokens_per_layer()
        rows = "\n".join(f"| {i} | {t} |" for i, t in enumerate(tpl))
        table = f"| after layer | visual tokens |\n|---|---|\n{rows}\n\n(0 = the frozen MobileNetV2 grid + [CLS]; r = {cfg.r} per layer)"
        timing = (f"with merging: **{ms_merge:.0f} ms** ({tpl[-1]} visual tokens into the LLM); without merging: **{ms_full:.0f} ms** "
                  f"({tpl[0]} tokens; caption: {repr(cap0) if cap0 else '(empty: the model was trained with merging)'}); "
                  f"speed-up **{ms_full / max(ms_merge, 1e-6):.2f}x** (median of 3 interleaved generations of exactly {n} tokens on this machine)")
        return cap, table, timing

    @friendly
    def merge_groups(img, layer):
        from vlp_edu.tome import make_group_visualization
        m = simvlg(); cfg = m.config
        x = to_tensor(img, cfg.image_size)
        srcs = merge_trace(m, x)
        layer = _int(layer, "layer", 0, len(srcs) - 1)
        n0 = srcs[0].shape[-1] - 1
        g = int(round(n0 ** 0.5))
        side = g * -(-DISPLAY // g)                                            # a multiple of the grid at least DISPLAY
        vis = make_group_visualization(big(x, side), srcs[layer], patch_size=side // g, class_token=True)
        return vis, f"layer {layer}: {srcs[layer].shape[1]} tokens (of {n0 + 1}); each colour-bordered region is one merged token"

    # ---- Video -----------------------------------------------------------------------------------------------------
    @friendly
    def video(seed):
        seed = _int(seed, "seed", 0, 2**31 - 1)
        have = not ck.missing("simvlg-video")
        m = ck.get("simvlg-video", _simvlg) if have else None
        size, T = (m.config.image_size, m.config.n_frames) if m else (64, 4)
        rng = random.Random(seed)
        clip = sample_clip(rng, size, T, 3)
        frames = render_clip(clip)
        truth = clip_captions(clip, rng, 3)
        gif = _TMP / f"clip_{seed}_{size}_{T}.gif"
        big_frames = [f.resize((DISPLAY, DISPLAY), Image.NEAREST) for f in frames]
        big_frames[0].save(gif, save_all=True, append_images=big_frames[1:], duration=500, loop=0)
        strip = Image.new("RGB", (DISPLAY // 2 * T + 4 * (T - 1), DISPLAY // 2), (255, 255, 255))
        for i, f in enumerate(frames): strip.paste(f.resize((DISPLAY // 2, DISPLAY // 2), Image.NEAREST), (i * (DISPLAY // 2 + 4), 0))
        if m is None: cap = ck.message("The video caption", ["simvlg-video"])
        else:
            clipt = torch.stack([image_to_tensor(f) for f in frames])          # (T, 3, H, W)
            with simvlg_lock: cap = "Generated caption (SimVLG video model): **" + m.generate(clipt[None], max_new_tokens=24)[0] + "**"
        return str(gif), strip, cap, "True captions (from the clip's scene data):\n" + "\n".join(f"- {c}" for c in truth)

    # ---- status lines --------------------------------------------------------------------------------------------------
    def status(what, *names):
        miss = ck.missing(*names)
        if miss: return "**Missing checkpoint.** " + ck.message(what, miss)
        return "Checkpoints: " + ", ".join(f"`{root / n}`" for n in names)

    def statuses():
        p1 = ["region-vqa"] if ck.has("region-vqa") else ["region", "region-vqa"]
        return (status("The Understand tab", "pretrain", "vqa"),
                status("The Paper 1 tab", "vqa" if not ck.has("visual-losses-vqa") else "visual-losses-vqa", *p1),
                status("The E2E-VLP tab", "e2evlp"), status("The SimVLG tab", "simvlg"),
                status("The video caption", "simvlg-video"))

    # ---- layout ----------------------------------------------------------------------------------------------------
    examples = sorted(EXAMPLES.glob("*.png"))
    n_layers = _config(root / "pretrain" / "config.json", "model", "n_layers", default=3)
    n_heads = _config(root / "pretrain" / "config.json", "model", "n_heads", default=4)
    n_queries = _config(root / "e2evlp" / "e2evlp.json", "n_queries", default=6)
    dec_layers = _config(root / "e2evlp" / "e2evlp.json", "dec_layers", default=2)
    tome_layers = _config(root / "simvlg" / "config.json", "n_layers", default=3)
    with gr.Blocks(title="vlp_edu: vision-language pretraining from pixels") as demo:
        gr.Markdown("# vlp_edu demo\nSmall vision-language models trained on **ShapesWorld** (coloured shapes on a dark canvas). "
                    "Upload an image, pick an example or draw a new random scene; every tab works on it. "
                    f"Images up to {MAX_PIXELS:,} pixels, any colour mode; questions in English, up to {MAX_TEXT_CHARS} characters.")
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                image = image_input(type="pil", label="image", value=new_scene(0), image_mode=None, height=280,
                                   sources=["upload", "clipboard"], elem_id="image")
                btn = gr.Button("New random scene", elem_id="new_scene")
                if examples: gr.Examples([[str(p)] for p in examples], inputs=[image], label="example scenes")
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab("Understand", id="understand", elem_id="tab_understand"):
                        st_u = gr.Markdown()
                        with gr.Row():
                            with gr.Column():
                                question = gr.Textbox(label="question", value="what colour is the circle?", max_length=4 * MAX_TEXT_CHARS)
                                ask = gr.Button("Answer", variant="primary", elem_id="ask")
                                answer = gr.Textbox(label="answer", elem_id="answer")
                                top5 = gr.Label(label="top-5 answer probabilities", num_top_classes=5)
                                gr.Examples([["what colour is the circle?"], ["how many objects are there?"], ["is there a blue square?"]],
                                            inputs=[question], label="example questions")
                            with gr.Column():
                                caption_in = gr.Textbox(label="caption", value="a red circle")
                                score_btn = gr.Button("ITM score")
                                score = gr.Number(label="P(caption matches image)")
                                token = gr.Dropdown(label="text token", choices=[], allow_custom_value=True)
                                with gr.Row():
                                    layer = gr.Slider(0, n_layers - 1, value=n_layers - 1, step=1, label="fusion layer")
                                    head = gr.Slider(-1, n_heads - 1, value=-1, step=1, label="head (-1: mean)")
                                att_btn = gr.Button("Show attention")
                                att_img = gr.Image(label="the token's attention over the image", height=260)
                                att_txt = gr.Markdown()
                    with gr.Tab("Paper 1", id="paper1", elem_id="tab_paper1"):
                        st_p = gr.Markdown()
                        gr.Markdown("The same question to the **end-to-end pixel model** and to the **region-feature baseline** "
                                    "(a detector's regions into the same fusion transformer), each timed; and the detector "
                                    "(teacher)'s boxes, the regions the baseline sees.")
                        with gr.Row():
                            q1 = gr.Textbox(label="question", value="how many objects are there?", scale=3)
                            cmp_btn = gr.Button("Compare", variant="primary", scale=1, elem_id="compare")
                        with gr.Row():
                            with gr.Column():
                                gr.Markdown("### pixel model")
                                p_top = gr.Label(label="top-5 (pixel)", num_top_classes=5); p_md = gr.Markdown()
                            with gr.Column():
                                gr.Markdown("### region baseline")
                                r_top = gr.Label(label="top-5 (region)", num_top_classes=5); r_md = gr.Markdown()
                        ratio = gr.Markdown()
                        min_score = gr.Slider(0, 0.95, value=0.2, step=0.05, label="teacher: min score")
                        t_img = gr.AnnotatedImage(label="teacher boxes (shape, colour, size, score)", height=300)
                    with gr.Tab("E2E-VLP", id="e2evlp", elem_id="tab_e2evlp"):
                        st_e = gr.Markdown()
                        with gr.Row():
                            with gr.Column():
                                thr = gr.Slider(0, 0.95, value=0.3, step=0.05, label="detection threshold")
                                det_btn = gr.Button("Detect + caption", variant="primary", elem_id="detect")
                                det_img = gr.AnnotatedImage(label="detections (class and attributes)", height=300)
                                beam = gr.Slider(1, 5, value=1, step=1, label="beam size (1: greedy)")
                                cap_out = gr.Textbox(label="generated caption", elem_id="e2e_caption")
                            with gr.Column():
                                query = gr.Slider(-1, n_queries - 1, value=-1, step=1, label="object query (-1: the most confident)")
                                qlayer = gr.Slider(-1, dec_layers - 1, value=-1, step=1, label="decoder layer (-1: last)")
                                q_btn = gr.Button("Show query attention")
                                q_img = gr.Image(label="the query's cross-attention over the image grid", height=260)
                                q_txt = gr.Markdown()
                    with gr.Tab("SimVLG", id="simvlg", elem_id="tab_simvlg"):
                        st_s = gr.Markdown()
                        with gr.Row():
                            with gr.Column():
                                max_tok = gr.Slider(4, 32, value=24, step=1, label="max new tokens")
                                s_btn = gr.Button("Caption (frozen LLM)", variant="primary", elem_id="simvlg_caption")
                                s_cap = gr.Textbox(label="caption", elem_id="simvlg_caption_out")
                                s_time = gr.Markdown()
                                s_table = gr.Markdown()
                            with gr.Column():
                                m_layer = gr.Slider(0, tome_layers, value=tome_layers, step=1, label="TomeFormer layer (0: before merging)")
                                m_btn = gr.Button("Show merge groups")
                                m_img = gr.Image(label="merge groups over the image", height=300)
                                m_txt = gr.Markdown()
                    with gr.Tab("Video", id="video", elem_id="tab_video"):
                        st_v = gr.Markdown()
                        with gr.Row():
                            seed = gr.Number(label="clip seed", value=0, precision=0)
                            v_btn = gr.Button("New random clip", elem_id="new_clip")
                            v_show = gr.Button("Show clip + caption", variant="primary", elem_id="show_clip")
                        with gr.Row():
                            v_gif = gr.Image(label="clip (animated)", type="filepath", height=260)
                            with gr.Column():
                                v_strip = gr.Image(label="frames", height=140)
                                v_cap = gr.Markdown(label="generated caption")
                                v_truth = gr.Markdown()

        btn.click(lambda: new_scene(None), None, image, api_name="new_scene")
        ask.click(vqa, [image, question], [answer, top5], api_name="vqa")
        question.submit(vqa, [image, question], [answer, top5], api_name=False)
        score_btn.click(itm, [image, caption_in], score, api_name="itm")
        caption_in.change(tokens_of, caption_in, token, api_name=False)
        att_btn.click(attention, [image, caption_in, token, layer, head], [att_img, att_txt], api_name="attention")
        cmp_btn.click(compare, [image, q1], [p_top, p_md, r_top, r_md, ratio], api_name="compare")
        cmp_btn.click(teacher_boxes, [image, min_score], t_img, api_name="teacher")
        min_score.release(teacher_boxes, [image, min_score], t_img, api_name=False)
        det_btn.click(detect, [image, thr], det_img, api_name="detect")
        det_btn.click(caption, [image, beam], cap_out, api_name="caption")
        q_btn.click(query_attention, [image, query, qlayer], [q_img, q_txt], api_name="query_attention")
        s_btn.click(simvlg_caption, [image, max_tok], [s_cap, s_table, s_time], api_name="simvlg_caption")
        m_btn.click(merge_groups, [image, m_layer], [m_img, m_txt], api_name="merge_groups")
        m_layer.release(merge_groups, [image, m_layer], [m_img, m_txt], api_name=False)
        v_btn.click(lambda: random.randrange(10**6), None, seed, api_name=False).then(
            video, seed, [v_gif, v_strip, v_cap, v_truth], api_name=False)
        v_show.click(video, seed, [v_gif, v_strip, v_cap, v_truth], api_name="video")
        demo.load(tokens_of, caption_in, token, api_name=False)
        demo.load(statuses, None, [st_u, st_p, st_e, st_s, st_v], api_name=False)
    return demo

def launch(root="runs/demo", port: int = 7860, **kw):
    "Build and serve the app on 127.0.0.1 with the queue the tests measure (4 handlers at once, the rest queued)."
    demo = build_demo(root)
    demo.queue(default_concurrency_limit=4, max_size=256).launch(server_name="127.0.0.1", server_port=port, **kw)
    return demo

if __name__ == "__main__":
    launch(sys.argv[1] if len(sys.argv) > 1 else "runs/demo")
