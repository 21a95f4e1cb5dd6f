// The API playground: sends one request to the API on this origin, straight from the browser,
// shows what came back and the same request in curl, Python, Node.js and PHP. No framework, no build step.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("playground-config").textContent);
  const $ = (id) => document.getElementById(id);
  const form = $("playground-form");
  const fileInput = $("source-file");
  const endpointSelect = $("endpoint");
  const size = $("opt-size");
  const format = $("opt-format");
  const channels = $("opt-channels");
  const quality = $("opt-quality");
  const crop = $("opt-crop");
  const cropMargin = $("opt-crop-margin");
  const bgColor = $("opt-bg-color");
  const keyInput = $("api-key");
  const remember = $("remember-key");
  const KEY_STORAGE = "bgone.playground.apiKey";
  // Response headers worth showing, in this order; a result's own come from the server.
  const HEADERS = [
    "content-type", "content-length", "x-request-id", ...config.result_headers,
    "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after",
  ];
  const EXTENSIONS = {
    "image/png": "png", "image/webp": "webp", "image/jpeg": "jpg",
    "application/zip": "zip", "application/json": "json",
  };

  let originalUrl = null;
  let resultUrl = null;
  let lastExtension = null; // from the last response's content type

  const endpoint = () => config.endpoints.find((e) => e.path === endpointSelect.value);
  const chosenSample = () => {
    const checked = form.querySelector("input[name=sample]:checked");
    return checked ? checked.value : null;
  };
  const sampleUrl = (name) => `/static/samples/${encodeURIComponent(name)}`;

  // -- the request, as one list of fields shared by fetch and curl ---------------------------
  // `size` is always sent (it decides the cost); other options only when they differ from
  // the endpoint's default, so the command stays as short as the request it reproduces.
  function optionFields() {
    const current = endpoint();
    const fields = [["size", size.value]];
    if (format.value !== current.format) fields.push(["format", format.value]);
    if (channels.value !== "rgba") fields.push(["channels", channels.value]);
    if (quality.value !== config.quality) fields.push(["quality", quality.value]);
    if (crop.checked) {
      fields.push(["crop", "true"]);
      if (cropMargin.value.trim()) fields.push(["crop_margin", cropMargin.value.trim()]);
    }
    if (bgColor.value.trim()) fields.push(["bg_color", bgColor.value.trim()]);
    return fields;
  }

  function source() {
    const file = fileInput.files && fileInput.files[0];
    if (file) return { kind: "file", name: file.name || "image", file };
    const name = chosenSample();
    return name ? { kind: "sample", name } : null;
  }

  function predictedExtension() {
    if (channels.value === "alpha") return format.value === "webp" ? "webp" : "png";
    const chosen = format.value === "auto" ? null : format.value;
    return chosen || "png";
  }

  function localName(src) {
    // A sample is downloaded under its own name; an uploaded file keeps its name.
    return src.kind === "sample" ? src.name : src.name.replace(/^.*[\\/]/, "");
  }

  // -- the same request in every language ------------------------------------------------------
  // Built on the server (bgone.web.snippets, which the docs pages use too), from the form's
  // state; the key is never part of it. Only the latest state's answer is shown.
  let snippetTicket = 0;
  async function showSnippets() {
    const ticket = ++snippetTicket;
    const codes = form.ownerDocument.querySelectorAll("[data-snippets] code[data-snippet]");
    const src = source();
    const error = $("snippets-error");
    if (!src) {
      codes.forEach((code) => { code.textContent = ""; });
      return;
    }
    const params = new URLSearchParams({
      endpoint: endpoint().path,
      image: localName(src),
      ext: lastExtension || predictedExtension(),
    });
    if (src.kind === "sample") params.set("sample", src.name);
    for (const [field, value] of optionFields()) params.append("option", `${field}=${value}`);
    try {
      const response = await fetch(`/playground/snippets?${params}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const shown = await response.json();
      if (ticket !== snippetTicket) return; // a newer state is on its way
      codes.forEach((code) => { code.textContent = shown[code.dataset.snippet] || ""; });
      form.ownerDocument.querySelectorAll("[data-snippets] [data-copy]").forEach((button) => {
        button.textContent = "Copy";
      });
      error.hidden = true;
    } catch (failure) {
      if (ticket !== snippetTicket) return;
      error.textContent = `The snippets could not be built: ${failure.message}`;
      error.hidden = false;
    }
  }

  // -- form state ------------------------------------------------------------------------------
  function showOriginal() {
    const src = source();
    const image = $("original-image");
    if (originalUrl) URL.revokeObjectURL(originalUrl);
    originalUrl = null;
    if (!src) {
      image.removeAttribute("src");
      return;
    }
    if (src.kind === "file") {
      originalUrl = URL.createObjectURL(src.file);
      image.src = originalUrl;
      image.alt = `Your image, ${src.name}`;
    } else {
      image.src = sampleUrl(src.name);
      image.alt = `The sample image ${src.name}`;
    }
  }

  let previous = endpoint();
  function endpointChanged() {
    const current = endpoint();
    // Follow the endpoint's defaults unless the user picked something else.
    if (size.value === previous.size) size.value = current.size;
    if (format.value === previous.format) format.value = current.format;
    previous = current;
    $("endpoint-defaults").textContent =
      `Image field: ${current.field}. Defaults: size=${current.size}, format=${current.format}.`;
  }

  function changed() {
    lastExtension = null;
    cropMargin.disabled = !crop.checked;
    showSnippets();
  }

  fileInput.addEventListener("change", () => {
    if (fileInput.files.length) {
      form.querySelectorAll("input[name=sample]").forEach((radio) => { radio.checked = false; });
    }
    showOriginal();
    changed();
  });
  form.querySelectorAll("input[name=sample]").forEach((radio) => {
    radio.addEventListener("change", () => {
      fileInput.value = "";
      showOriginal();
      changed();
    });
  });
  endpointSelect.addEventListener("change", () => { endpointChanged(); changed(); });
  [size, format, channels, quality, crop, cropMargin, bgColor].forEach((input) => {
    input.addEventListener("input", changed);
    input.addEventListener("change", changed);
  });

  // -- the key: never sent anywhere but the API; kept only if asked, only for this tab ---------
  try {
    const stored = window.sessionStorage.getItem(KEY_STORAGE);
    if (stored) {
      keyInput.value = stored;
      remember.checked = true;
    }
  } catch { /* storage disabled: nothing remembered */ }
  function rememberKey() {
    try {
      if (remember.checked && keyInput.value.trim()) {
        window.sessionStorage.setItem(KEY_STORAGE, keyInput.value.trim());
      } else {
        window.sessionStorage.removeItem(KEY_STORAGE);
      }
    } catch { /* storage disabled */ }
  }
  remember.addEventListener("change", rememberKey);
  keyInput.addEventListener("input", rememberKey);
  $("toggle-key").addEventListener("click", (event) => {
    const showing = keyInput.type === "text";
    keyInput.type = showing ? "password" : "text";
    event.currentTarget.textContent = showing ? "Show" : "Hide";
    event.currentTarget.setAttribute("aria-pressed", String(!showing));
  });

  // -- sending ---------------------------------------------------------------------------------
  function formError(message) {
    const box = $("form-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function showHeaders(response) {
    const body = $("headers-body");
    body.replaceChildren();
    for (const name of HEADERS) {
      const value = response.headers.get(name);
      if (value === null) continue;
      const row = document.createElement("tr");
      row.dataset.header = name;
      const key = document.createElement("th");
      key.scope = "row";
      key.textContent = name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase())
        .replace("Id", "ID").replace("Ratelimit", "RateLimit");
      const cell = document.createElement("td");
      cell.textContent = value;
      if (name === "x-ratelimit-reset" && /^\d+$/.test(value)) {
        const seconds = Math.max(0, Math.round(Number(value) - Date.now() / 1000));
        const note = document.createElement("span");
        note.className = "muted";
        note.textContent = ` (in ${seconds} s)`;
        cell.append(note);
      }
      row.append(key, cell);
      body.append(row);
    }
  }

  function resetResult() {
    if (resultUrl) URL.revokeObjectURL(resultUrl);
    resultUrl = null;
    const image = $("result-image");
    image.hidden = true;
    image.removeAttribute("src");
    $("download").hidden = true;
    $("response-json").hidden = true;
    $("response-json").textContent = "";
    $("result-placeholder").hidden = false;
    $("result-placeholder").textContent = "Waiting for the response…";
  }

  async function imageBody(src) {
    if (src.kind === "file") return src.file;
    const response = await fetch(sampleUrl(src.name));
    if (!response.ok) throw new Error(`The sample ${src.name} could not be loaded.`);
    return response.blob();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const src = source();
    const key = keyInput.value.trim();
    if (!src) return formError("Choose a sample image or upload one of your own.");
    if (!key) {
      keyInput.focus();
      return formError("Paste your API key first.");
    }
    formError("");
    const current = endpoint();
    const send = $("send");
    send.disabled = true;
    send.textContent = "Sending…";
    resetResult();
    $("status").textContent = "…";
    $("elapsed").textContent = "…";
    $("body-size").textContent = "…";
    try {
      const body = new FormData();
      body.append(current.field, await imageBody(src), localName(src));
      for (const [field, value] of optionFields()) body.append(field, value);
      const started = performance.now();
      const response = await fetch(current.path, {
        method: "POST", headers: { "x-api-key": key }, body,
      });
      const payload = await response.blob();
      const elapsed = Math.round(performance.now() - started);
      const type = (response.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();

      $("status").textContent = `${response.status} ${response.statusText}`.trim();
      $("status").className = response.ok ? "pg-ok" : "pg-error";
      $("elapsed").textContent = `${elapsed} ms`;
      $("body-size").textContent = `${payload.size.toLocaleString("en")} bytes`;
      showHeaders(response);
      // One column (phones): bring the answer into view.
      if (window.matchMedia("(max-width: 900px)").matches) {
        $("result-heading").scrollIntoView({ behavior: "smooth", block: "start" });
      }
      if (response.ok && EXTENSIONS[type]) lastExtension = EXTENSIONS[type];
      await showSnippets(); // before the result shows: what is on screen matches it

      if (type === "application/json" || type.endsWith("+json")) {
        const text = await payload.text();
        let pretty = text;
        try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* as sent */ }
        $("response-json").textContent = pretty;
        $("response-json").hidden = false;
        $("result-placeholder").textContent = response.ok
          ? "The API answered with JSON (below)."
          : "The API refused the request; its answer is below.";
        return;
      }
      resultUrl = URL.createObjectURL(payload);
      const download = $("download");
      download.href = resultUrl;
      download.download = `result.${EXTENSIONS[type] || "bin"}`;
      download.hidden = false;
      if (type.startsWith("image/")) {
        const image = $("result-image");
        image.src = resultUrl;
        image.hidden = false;
        $("result-placeholder").hidden = true;
      } else {
        $("result-placeholder").textContent =
          `A ${type || "binary"} file came back (zip: color.jpg and alpha.png); download it to look inside.`;
      }
    } catch (error) {
      $("status").textContent = "No response";
      $("status").className = "pg-error";
      $("elapsed").textContent = "–";
      $("body-size").textContent = "–";
      $("result-placeholder").textContent = "";
      formError(`The request did not complete: ${error.message}`);
    } finally {
      send.disabled = false;
      send.textContent = "Send request";
    }
  });

  size.value = previous.size;
  format.value = previous.format;
  quality.value = config.quality;
  endpointChanged();
  showOriginal();
  changed();
})();
