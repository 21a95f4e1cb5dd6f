"""One ONNX Runtime session per model, shared by every request, with bounded concurrency.

Each model is loaded twice: a wide session (`intra_op_threads` threads) for a lone request
and a single-threaded one for runs that sit side by side (see threadplan.py). Both draw
on one process-wide memory arena, so the two never hold working memory at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

from bgone.errors import ModelError
from bgone.inference.catalog import Family, InputScaling, ModelSpec, OutputKind, find_model
from bgone.inference.heap import release_freed_heap
from bgone.inference.provision import require_verified
from bgone.inference.threadplan import CorePlan

_shared_arena_lock = threading.Lock()
_shared_arena_registered = False


def _register_shared_arena() -> None:
    """One CPU arena for every session in the process (registered once per process)."""
    global _shared_arena_registered
    with _shared_arena_lock:
        if _shared_arena_registered:
            return
        memory = ort.OrtMemoryInfo(
            "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
        )
        ort.create_and_register_allocator(memory, ort.OrtArenaCfg(0, -1, -1, -1))
        _shared_arena_registered = True


@dataclass(frozen=True)
class RuntimeConfig:
    """How sessions are built; derived from Settings by the caller."""

    model_dir: Path
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    concurrency: int = 1
    providers: tuple[str, ...] = ("CPUExecutionProvider",)


def check_providers(requested: tuple[str, ...]) -> None:
    available = ort.get_available_providers()
    missing = [name for name in requested if name not in available]
    if missing:
        hint = " (install onnxruntime-gpu for CUDA)" if "CUDAExecutionProvider" in missing else ""
        raise ModelError(
            f"BGONE_EXECUTION_PROVIDERS asks for {', '.join(missing)}, which this onnxruntime "
            f"build does not have{hint}; available: {', '.join(available)}."
        )


class InputResize(StrEnum):
    """How a photo is brought to the model's input grid.

    Chosen with bench/quality.py on every shared set (README, Quality). A single model run
    (`fast`) takes Lanczos: with bicubic, saving a photo again as JPEG q85 flipped the
    model's decision on a few photos (ecssd50's mean IoU moved by -0.0106, against -0.0027
    with Lanczos and at most 0.0028 on every set and variant). `best` picks its own
    (best.py, INPUT_RESIZE).
    """

    LANCZOS = "lanczos"
    BICUBIC = "bicubic"


_RESAMPLING = {
    InputResize.LANCZOS: Image.Resampling.LANCZOS,
    InputResize.BICUBIC: Image.Resampling.BICUBIC,
}


def preprocess(
    image: Image.Image, family: Family, resize: InputResize = InputResize.LANCZOS
) -> np.ndarray:
    """RGB image -> 1x3xSxS float32 tensor, normalised as the family was trained."""
    size = family.input_size
    # reducing_gap: a cheap integer (box) reduction first for large photos, then the filter
    # over at least 2x (Lanczos at 4 MP: 20 ms instead of 53; at 12 MP: 22 instead of 133;
    # pixel values within a few levels); below a 4x ratio it is exactly the plain resize.
    # convert() copies even an RGB image (48 MB at 12 MP): only convert what needs it.
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    resized = np.asarray(
        rgb.resize((size, size), _RESAMPLING[resize], reducing_gap=2.0), dtype=np.float32
    )
    if family.scaling is InputScaling.BY_IMAGE_MAX:
        resized /= max(float(resized.max()), 1e-6)
    else:
        resized /= 255.0
    resized -= np.asarray(family.mean, dtype=np.float32)
    resized /= np.asarray(family.std, dtype=np.float32)
    return resized.transpose(2, 0, 1)[np.newaxis].copy()


def postprocess(raw: np.ndarray, family: Family) -> np.ndarray:
    """First output -> HxW float32 mask in [0, 1] at the model's resolution."""
    mask: np.ndarray = np.asarray(raw, dtype=np.float32).reshape(raw.shape[-2:])
    if family.output is OutputKind.MIN_MAX:
        low, high = float(mask.min()), float(mask.max())
        mask = (mask - low) / max(high - low, 1e-6)
    elif family.output is OutputKind.SIGMOID:
        mask = 1.0 / (1.0 + np.exp(-mask))
    clipped: np.ndarray = np.clip(mask, 0.0, 1.0).astype(np.float32)
    return clipped


class ModelSession:
    """A loaded model. `predict` is thread-safe; runs share the cores as CorePlan says."""

    def __init__(self, spec: ModelSpec, config: RuntimeConfig) -> None:
        check_providers(config.providers)
        path = require_verified(spec, config.model_dir)
        _register_shared_arena()
        self._session = self._load(path, config, config.intra_op_threads)
        # Single-threaded runs side by side: only worth having with more than one CPU
        # thread (an accelerator's runs are not split over cores).
        on_cpu = config.providers == ("CPUExecutionProvider",)
        # Loaded on the first run that needs it: a replica that never overlaps runs of a
        # model (one large photo at a time, or `best`'s IS-Net on 12 MP) never holds the
        # second copy of its weights (about 300 MB for IS-Net after graph optimisation).
        self._path, self._config = path, config
        self._narrow_lock = threading.Lock()
        self._narrow: ort.InferenceSession | None = (
            None if on_cpu and config.intra_op_threads > 1 else self._session
        )
        model_input = self._session.get_inputs()[0]
        self._input_name: str = model_input.name
        self._input_dtype = np.float16 if "float16" in model_input.type else np.float32
        self.spec = spec
        self.family = spec.family_spec
        self._plan = CorePlan(
            config.intra_op_threads if on_cpu else 1,
            config.intra_op_threads * config.concurrency if on_cpu else config.concurrency,
        )
        # Overlapping runs each hold the model's working memory (about 300 MB for u2netp);
        # the first wide run after them hands what the arena no longer uses back.
        self._arena_grew = False
        self._shrink = ort.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    @staticmethod
    def _load(path: Path, config: RuntimeConfig, threads: int) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = config.inter_op_threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads would otherwise spin, taking the CPU that other requests'
        # decoding and encoding need while the model waits between operators.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.use_env_allocators", "1")
        # Without the precomputed allocation plan the model's peak memory drops from about
        # 470 MB to 280 MB for U^2-Net, at no measurable cost in speed.
        options.enable_mem_pattern = False
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=list(config.providers)
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"could not load {path}: {exc}") from exc
        release_freed_heap()  # the parsed file's temporary copies (heap.py)
        return session

    def load_side_by_side_copy(self) -> None:
        """Load the single-threaded copy now (a server's default model: requests overlap)."""
        self._narrow_session()

    def _narrow_session(self) -> ort.InferenceSession:
        if self._narrow is None:
            with self._narrow_lock:
                if self._narrow is None:
                    self._narrow = self._load(self._path, self._config, 1)
        return self._narrow

    def run_tensor(
        self, tensor: np.ndarray, narrow: bool = False, release: bool = False
    ) -> np.ndarray:
        """One model run; `narrow` when other requests are in process (see threadplan);
        `release` hands the run's working memory back at its end (see predict)."""
        feed = {self._input_name: tensor.astype(self._input_dtype)}
        with self._plan.run(narrow) as grant:
            if grant.single_threaded:
                self._arena_grew = self._arena_grew or self._plan.running > 1
                outputs = self._narrow_session().run(None, feed)
            elif self._arena_grew or release:
                self._arena_grew = False
                outputs = self._session.run(None, feed, self._shrink)
            else:
                outputs = self._session.run(None, feed)
        return np.asarray(outputs[0])

    def predict(
        self,
        image: Image.Image,
        narrow: bool = False,
        release: bool = False,
        resize: InputResize = InputResize.LANCZOS,
    ) -> np.ndarray:
        """The image's mask. `release`: for a model whose working memory is large (IS-Net
        holds about 850 MB at its 1024 x 1024 input) ahead of a large photo's full-size
        stages, which would otherwise stack on top of what the arena keeps."""
        tensor = preprocess(image, self.family, resize)
        return postprocess(self.run_tensor(tensor, narrow, release), self.family)


class ModelPool:
    """Loads each model once, on first use or at start-up, and hands out the shared session."""

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self._sessions: dict[str, ModelSession] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> ModelSession:
        session = self._sessions.get(name)
        if session is not None:
            return session
        with self._lock:
            if name not in self._sessions:
                spec = find_model(name, self.config.model_dir)
                self._sessions[name] = ModelSession(spec, self.config)
            return self._sessions[name]

    def loaded(self) -> list[str]:
        return sorted(self._sessions)
