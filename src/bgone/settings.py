"""Runtime configuration: the only module that reads the environment."""

from __future__ import annotations

import ipaddress
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A list read from one variable: comma-separated (`a,b`), or a JSON array (`["a","b"]`).
TextList = Annotated[list[str], NoDecode]


def _default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _default_concurrency() -> int:
    return max(1, (os.cpu_count() or 1) // _default_threads())


class Settings(BaseSettings):
    """Every knob an operator can turn, read from `BGONE_*` variables."""

    model_config = SettingsConfigDict(env_prefix="BGONE_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("bgone")))
    # Empty means "<data_dir>/models"; resolved in the validator below.
    model_dir: Path | None = None
    default_model: str = "u2netp"
    # The quality of a request that names none. A request that names a model or a refinement
    # gets `fast` whatever this says: it asked for something only `fast` honours. `best` is
    # several times slower (README, Quality).
    default_quality: Literal["fast", "best"] = "fast"
    # A `best` result costs this many times what the same `fast` result costs (full 1 credit,
    # preview 0.25), until plans carry prices per quality.
    best_quality_credits: float = Field(default=1.0, gt=0)

    max_upload_bytes: int = 25 * 1024 * 1024
    max_megapixels: float = 50.0
    # The longest side an image may have, checked from the header like the megapixels.
    max_side_pixels: int = Field(default=20_000, ge=1)

    # The thread plan: intra_op_threads x inference_concurrency <= cores. Measured on 2
    # cores, one model run at a time with 2 threads gives both the best latency and the
    # best throughput (see the README's Performance section).
    intra_op_threads: int = Field(default_factory=_default_threads, ge=1)
    inter_op_threads: int = Field(default=1, ge=1)
    inference_concurrency: int = Field(default_factory=lambda: _default_concurrency(), ge=1)
    # While several requests are in process, model runs go single-threaded side by side,
    # as long as their photos total at most this many megapixels: each overlapping run
    # holds the model's working memory (about 300 MB for u2netp), and large photos spend
    # most of their time outside the model anyway. 0 keeps every run wide.
    overlap_max_megapixels: float = Field(default=16.0, ge=0)
    execution_providers: TextList = Field(default_factory=lambda: ["CPUExecutionProvider"])

    # Empty means a SQLite file in data_dir; any SQLAlchemy URL works
    # (postgresql+psycopg://... for several replicas).
    database_url: str = ""
    # Empty means in-process rate limits and caches; set it for several replicas.
    redis_url: str = ""
    # Namespace for every Redis key and channel, so several deployments can share a server.
    redis_key_prefix: str = "bgone"
    # HMAC secret for API keys. Empty means "generate one into data_dir/secret_key on first
    # start". Rotation: put the new one here and the old ones in previous_secret_keys.
    secret_key: str = ""
    previous_secret_keys: TextList = Field(default_factory=list)

    # Whole-pipeline runs in parallel, and requests allowed to wait for one before the
    # server answers 503 server_busy.
    # One more than the model's concurrency: another request's decoding, refining and
    # encoding overlap with the model. More workers only add contention and memory
    # (measured: 3.4 vs 3.1 images/s and 0.9 vs 1.1 GB at 12 MP on 2 cores).
    pipeline_workers: int = Field(default_factory=lambda: _default_concurrency() + 1, ge=1)
    queue_size: int = Field(default=16, ge=0)
    # Image work runs on bounded pools of its own, never on the threads that key lookups,
    # rate limits, /readyz and the dashboard use: URL downloads (threads that mostly wait on
    # the network; no queue: past it, 503 server_busy), decoding (queue_size waiting), and the
    # pipeline above. In any pool one account holds at most max(2, ceil(account_share x the
    # pool's threads)) slots, running or waiting; past that it gets 429
    # concurrency_limit_exceeded at once. Above 1 an account may also wait beyond the
    # threads (a single-tenant install, or a test of something else than the shares).
    # An account refused (429) more than refusals_before_delay times in a second has its next
    # refusals answered after refusal_delay_seconds (at most their Retry-After), so a client
    # that resends at once without waiting costs no CPU meanwhile (infra/refusal_pacing.py).
    # 0 answers every refusal at once.
    refusals_before_delay: int = Field(default=10, ge=0)
    refusal_delay_seconds: float = Field(default=1.0, ge=0, le=30)
    download_pool_size: int = Field(default=16, ge=1)
    decode_pool_size: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    account_share: float = Field(default=0.25, gt=0, le=1000)

    # image_url / bg_image_url downloads.
    url_fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    # CIDRs exempt from the private-address refusal (e.g. an internal image store).
    url_fetch_allowed_networks: TextList = Field(default_factory=list)

    # The largest answer kept for an Idempotency-Key (services/idempotency.py): a removal
    # answered with more is not kept, and a retry with its key gets 409
    # idempotency_answer_too_large instead of running (and being charged) twice.
    idempotency_max_bytes: int = Field(default=16 * 1024 * 1024, ge=0)

    # Requests with an invalid API key (malformed or unknown) allowed per client IP and
    # minute; beyond it they get 429 too_many_invalid_keys. Valid keys are never held back.
    invalid_keys_per_minute: int = Field(default=30, ge=1)
    # Refuse (403 browser_request_refused) requests that carry an API key and an Origin
    # header other than this server's own and the account's allowed origins: a key in a web
    # page is readable by every visitor. false turns the check off.
    browser_key_check: bool = True
    # Leaked-key reports (POST /v1/keys/leaked, no key needed) allowed per client address and
    # minute; beyond it they get 429 too_many_reports. A secret scanner reports in batches.
    leak_reports_per_minute: int = Field(default=30, ge=1)
    # A file of the secret scanner's public keys (GitHub's JSON document of them, or PEM
    # P-256 keys): reports in GitHub's alert format must then carry a valid signature
    # (401 invalid_report_signature otherwise). Unset: no signature is checked.
    leak_report_public_keys: Path | None = None

    # Dashboard sign-up: on or off, and the plan new accounts start on.
    signup_enabled: bool = True
    signup_plan: str = "starter"
    # Pay-as-you-go credits every new account gets once (sign-up or CLI); 0 for none.
    trial_credits: float = Field(default=0.0, ge=0)
    # Plans a customer may switch to from the account page without the operator's approval
    # (comma list of plan names); empty: every plan change is a request the operator answers.
    self_serve_plans: TextList = Field(default_factory=list)
    # Mark the session cookie Secure (set it when serving over HTTPS).
    secure_cookies: bool = False

    # Email (password reset links, sign-up verification). Empty: no mail is sent, sign-up
    # needs no verification and a forgotten password is reset by the operator
    # (`bgone accounts reset-password`). smtp://user:pass@host:587 uses STARTTLS (required),
    # smtps://user:pass@host:465 TLS from the start, smtp+plain://host:25 no encryption (a
    # local relay; credentials only to loopback). User and password are percent-encoded.
    smtp_url: str = ""
    # The From: of every message; empty means bgone@<the public URL's host>.
    smtp_from: str = ""
    # Where browsers reach this server (https://bgone.example.com): every emailed link is
    # built from it, never from a request's Host header. Empty means http://host:port.
    public_url: str = ""

    # One log line per request, with its id, account, key id, status, code and timings
    # (server/request_log.py); it replaces uvicorn's access log. false turns it off.
    access_log: bool = True
    # "text" for people, "json" (one object per line) for log collectors.
    log_format: Literal["text", "json"] = "text"
    # The level of bgone's own loggers (debug adds the engine's line per removal).
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Prometheus metrics (/metrics) on this port of BGONE_HOST; off when unset. Never on the
    # API's port. With metrics_token set, scrapes must send it as a Bearer token.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_token: str = ""
    # prometheus_client's multiprocess mode: every process of one server writes its values
    # here and a scrape sums them. Empty it before the server's processes start (bgone does
    # not: a starting process would wipe the others'). Unset: each process counts alone.
    metrics_multiprocess_dir: Path | None = None

    # Batch jobs and webhook deliveries run on a Huey task queue (infra/task_queue.py): its
    # storage is Redis when redis_url is set, else PostgreSQL when the database is, else a
    # SQLite file in data_dir. A consumer with nothing to do polls SQL storage at most this
    # far apart (Redis storage blocks and wakes at once).
    queue_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # Job uploads and results; every API replica and worker must see the same directory.
    # Empty means "<data_dir>/results".
    result_dir: Path | None = None
    # Batch jobs (POST /v1/jobs): the most images one job may hold, and the most bytes its
    # whole request body may have (uploads, or one ZIP); nginx's /v1/jobs location matches.
    job_max_items: int = Field(default=1000, ge=1)
    job_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    # How long a finished job's results (and its rows) are kept: seconds, or ISO 8601 (P7D).
    job_retention: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    # How long a webhook endpoint's delivery log keeps an ended delivery (30 days, as the
    # hosted providers' event logs do): a consumer deletes older ones once an hour.
    webhook_log_retention: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    # A running item's lease: a worker renews it while it works; once it lapses (the worker
    # was killed) the reaper queues the item again for another worker.
    job_lease_seconds: float = Field(default=30.0, ge=1)
    # `bgone worker` lowers its CPU priority by this much (nice), so that on a machine it
    # shares with API replicas the interactive requests (a status poll, a removal) are
    # scheduled ahead of batch items; alone on its machine it loses nothing. 0 keeps it.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # How many malloc arenas glibc may give the threads of `bgone serve` and `bgone worker`
    # (bgone.infra.malloc_arenas): fewer arenas, a lower peak on large photos. 0: glibc's own.
    malloc_arenas: int = Field(default=2, ge=0)
    # Whether `bgone serve` also runs job items in process: "auto" does in the embedded
    # default (SQLite, no Redis), where nothing else would; "off" leaves them to workers.
    serve_jobs: Literal["auto", "on", "off"] = "auto"

    host: str = "127.0.0.1"
    port: int = 8000
    # The proxies (IPs or CIDRs) whose X-Forwarded-For and X-Forwarded-Proto are believed.
    # None by default: a replica reached directly takes the client address from the socket,
    # so no client can pick the address its invalid-key and log-in limits count against.
    forwarded_allow_ips: TextList = Field(default_factory=list)
    # The longest a client may take to send a request's headers, then its body; past them
    # the connection gets 408 and is closed (a slow client must not hold a connection open
    # forever). The body's is a total, not an idle time: at 30 s a 25 MiB upload needs about
    # 1 MB/s. Behind nginx (deploy/), which buffers whole bodies, replicas get them at once.
    header_timeout_seconds: float = Field(default=15.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)

    # "fpng" (fast, ~20% larger files) for RGB/RGBA results; "pillow" uses zlib at
    # png_compress_level (also used for one-channel masks and when fpng is unavailable).
    png_encoder: Literal["fpng", "pillow"] = "fpng"
    png_compress_level: int = Field(default=1, ge=0, le=9)
    jpeg_quality: int = Field(default=92, ge=1, le=100)
    webp_quality: int = Field(default=90, ge=1, le=100)

    @field_validator(
        "execution_providers",
        "previous_secret_keys",
        "url_fetch_allowed_networks",
        "forwarded_allow_ips",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [item.strip() for item in value.split(",") if item.strip()]

    @field_validator("leak_report_public_keys")
    @classmethod
    def _check_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{str(value)[:200]!r} is not a file")
        return value

    @field_validator("url_fetch_allowed_networks", "forwarded_allow_ips")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item[:100]!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _resolve_model_dir(self) -> Settings:
        if self.model_dir is None:
            self.model_dir = self.data_dir / "models"
        if self.result_dir is None:
            self.result_dir = self.data_dir / "results"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'bgone.db'}"
        return self

    @property
    def public_base_url(self) -> str:
        """The public URL without a trailing slash (links append paths to it)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def mail_sender(self) -> str:
        if self.smtp_from:
            return self.smtp_from
        host = urlsplit(self.public_base_url).hostname or "localhost"
        return f"bgone@{host}"

    @property
    def results_path(self) -> Path:
        assert self.result_dir is not None  # set by the validator
        return self.result_dir

    @property
    def models_path(self) -> Path:
        assert self.model_dir is not None  # set by the validator
        return self.model_dir
