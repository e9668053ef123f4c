// purenn's page: Draw, Inside, Mistakes, Learn.  Everything it shows comes
// from the server's /api (purenn/web/api.py); nothing is loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const SIDE = 28;

const state = {
  model: null,          // the name of the model chosen
  strokes: [],          // the strokes drawn: each a list of [x, y] on the 280 x 280 canvas
  background: null,     // a picture under the strokes: a test digit or an uploaded picture
  testImage: null,      // the 784 pixels of a test digit loaded from Mistakes, while nothing is drawn on it
  image: null,          // the 28 x 28 picture the network last saw (784 numbers)
  reading: null,        // the last answer of /api/predict or /api/classify
  inflight: false,
  again: false,         // the drawing changed while a request was out: ask again when it returns
  mistakesPage: 1,
  mistakesTimer: null,
  weightsFor: null,     // the model whose weights are shown in Inside
  learnTimer: null,
};

//// talking to the server

function problem(message) {
  const p = $("problem");
  p.textContent = message || "";
  p.hidden = !message;
}

async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new Error("the server cannot be reached (" + e.message + ")");
  }
  const text = await response.text();
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error("the server answered " + response.status + " with something that is not JSON");
  }
  if (!response.ok) throw new Error(value.error || ("the server answered " + response.status));
  return value;
}

function postJSON(path, value) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(value)});
}

function modelQuery() {
  return "model=" + encodeURIComponent(state.model);
}

//// pictures

function base64Bytes(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// Draw grey levels (0 black .. 255 white, or a function of each value) into a canvas of width x height.
function paint(canvas, width, height, values, colour) {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const data = context.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = colour(values[i]);
    data.data[4 * i] = r; data.data[4 * i + 1] = g; data.data[4 * i + 2] = b; data.data[4 * i + 3] = 255;
  }
  context.putImageData(data, 0, 0);
}

const inkOnPaper = (v) => [255 - v, 255 - v, 255 - v];     // MNIST's light ink, shown dark on white
const weightColour = (v) => v < 128                            // 128 is a weight of 0
  ? [255, 255 - 2 * (128 - v), 255 - 2 * (128 - v)]
  : [255 - 2 * (v - 128), 255 - 2 * (v - 128), 255];

//// Draw

const canvas = $("canvas");
const pen = canvas.getContext("2d", {willReadFrequently: true});  // read back for every request

function redraw() {
  pen.fillStyle = "#fff";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  if (state.background) pen.drawImage(state.background, 0, 0, canvas.width, canvas.height);
  pen.strokeStyle = "#000";
  pen.fillStyle = "#000";
  pen.lineWidth = 22;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  for (const stroke of state.strokes) {
    pen.beginPath();
    pen.moveTo(stroke[0][0], stroke[0][1]);
    if (stroke.length === 1) pen.lineTo(stroke[0][0] + 0.01, stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) pen.lineTo(x, y);
    pen.stroke();
  }
}

function where(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}

let drawing = null;
canvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  drawing = [where(event)];
  state.strokes.push(drawing);
  state.testImage = null;
  redraw();
  ask();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  event.preventDefault();
  for (const e of (event.getCoalescedEvents ? event.getCoalescedEvents() : [event])) drawing.push(where(e));
  if (!drawing.length) drawing.push(where(event));
  redraw();
  ask();
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, () => {
    if (!drawing) return;
    drawing = null;
    ask();
  });
}

$("undo").addEventListener("click", () => {
  if (state.strokes.length) state.strokes.pop();
  else state.background = state.testImage = null;
  redraw();
  ask();
});
$("clear").addEventListener("click", () => {
  state.strokes = [];
  state.background = state.testImage = null;
  redraw();
  ask();
});

function blank() {
  return !state.strokes.length && !state.background;
}

// The canvas as a binary PGM: the server reads it as `predict` reads a picture file.
function canvasPGM() {
  const {width, height} = canvas;
  const rgba = pen.getImageData(0, 0, width, height).data;
  const header = new TextEncoder().encode("P5\n" + width + " " + height + "\n255\n");
  const body = new Uint8Array(header.length + width * height);
  body.set(header);
  for (let i = 0; i < width * height; i++) {
    body[header.length + i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  return body;
}

function setBusy(busy) {
  $("answer").dataset.busy = busy ? "1" : "0";
}

// Ask the network about the drawing: one request out at a time, the latest drawing asked next.
async function ask() {
  if (state.inflight) { state.again = true; return; }
  if (blank() || !state.model) { show(null); return; }
  state.inflight = true;
  setBusy(true);
  try {
    do {
      state.again = false;
      const reading = state.testImage && !state.strokes.length
        ? await postJSON("/api/classify", {model: state.model, image: state.testImage})
        : await api("/api/predict?" + modelQuery(), {method: "POST",
            headers: {"Content-Type": "image/x-portable-graymap"}, body: canvasPGM()});
      if (!blank()) show(reading);
    } while (state.again && !blank());
    problem("");
  } catch (e) {
    problem(e.message);
  } finally {
    state.inflight = false;
    if (blank()) show(null);
    setBusy(false);
  }
}

function show(reading) {
  state.reading = reading;
  state.image = reading ? reading.image : null;
  $("digit").textContent = reading ? String(reading.digit) : "?";
  $("status").textContent = reading ? "model " + reading.model + " reads " + reading.digit : "draw a digit";
  const bars = $("bars");
  bars.textContent = "";
  for (let d = 0; d < 10; d++) {
    const v = reading ? reading.outputs[d] : 0;
    const row = document.createElement("div");
    row.className = "bar" + (reading && d === reading.digit ? " best" : "");
    row.dataset.digit = d;
    const label = document.createElement("span"); label.className = "label"; label.textContent = d;
    const track = document.createElement("span"); track.className = "track";
    const fill = document.createElement("span"); fill.className = "fill";
    fill.style.width = (100 * Math.max(0, Math.min(1, v || 0))).toFixed(1) + "%";
    fill.style.display = "block";
    track.appendChild(fill);
    const value = document.createElement("span"); value.className = "value";
    value.textContent = reading ? (v === null ? "NaN" : v.toFixed(3)) : "";
    row.append(label, track, value);
    bars.appendChild(row);
  }
  paint($("seen"), SIDE, SIDE, reading ? reading.image : new Array(SIDE * SIDE).fill(0), inkOnPaper);
  if (currentView() === "inside") showInside();
}

// A picture (test digit or upload) as the canvas's background.
function backgroundFrom(width, height, values, colour) {
  const picture = document.createElement("canvas");
  paint(picture, width, height, values, colour);
  return picture;
}

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  const type = /\.png$/i.test(file.name) ? "image/png" : /\.pbm$/i.test(file.name) ? "image/x-portable-bitmap"
    : /\.pgm$/i.test(file.name) ? "image/x-portable-graymap" : (file.type || "application/octet-stream");
  setBusy(true);
  try {
    const reading = await api("/api/predict?" + modelQuery(), {method: "POST", headers: {"Content-Type": type},
                                                               body: await file.arrayBuffer()});
    state.strokes = [];
    state.testImage = reading.image;
    state.background = backgroundFrom(SIDE, SIDE, reading.image, inkOnPaper);
    redraw();
    show(reading);
    problem("");
  } catch (e) {
    problem(file.name + ": " + e.message);
  } finally {
    $("upload").value = "";
    setBusy(false);
  }
});

//// Inside

async function showInside() {
  if (state.weightsFor !== state.model) await showWeights();
  const note = $("inside-note"), layers = $("layers");
  if (!state.image) {
    note.textContent = "Draw a digit to see the hidden layers answer it.";
    layers.textContent = "";
    markExcited(null);
    return;
  }
  try {
    const inside = await postJSON("/api/inside", {model: state.model, image: state.image});
    note.textContent = "The hidden layers of " + inside.model + " for the digit drawn (darker: more active).";
    layers.textContent = "";
    inside.layers.forEach((layer, l) => layers.appendChild(layerView(layer, l)));
    markExcited(inside.layers[0]);
    problem("");
  } catch (e) {
    problem(e.message);
  }
}

function layerView(layer, l) {
  const box = document.createElement("div");
  box.className = "layer";
  const title = document.createElement("h2");
  const values = layer.values.map((v) => v === null ? 0 : v);
  const top = Math.max(1e-12, ...values);
  if (layer.kind === "maps") {
    title.textContent = "layer " + (l + 1) + ": " + layer.maps + " feature maps of " + layer.rows + " x " + layer.cols;
    const maps = document.createElement("div");
    maps.className = "grid maps";
    for (const p of layer.pictures) {
      const c = document.createElement("canvas");
      paint(c, p.width, p.height, base64Bytes(p.pixels), inkOnPaper);
      maps.appendChild(c);
    }
    box.append(title, maps);
  } else {
    title.textContent = "hidden layer " + (l + 1) + ": " + values.length + " neurons";
    const row = document.createElement("div");
    row.className = "neurons";
    values.forEach((v, j) => {
      const cell = document.createElement("span");
      cell.className = "neuron";
      const level = Math.round(255 - 255 * Math.max(0, v) / top);
      cell.style.background = "rgb(" + level + "," + level + "," + level + ")";
      cell.title = "neuron " + j + ": " + v.toFixed(3);
      row.appendChild(cell);
    });
    box.append(title, row);
  }
  return box;
}

async function showWeights() {
  const grid = $("weights");
  try {
    const weights = await api("/api/weights?" + modelQuery());
    state.weightsFor = weights.model;
    $("weights-title").textContent = weights.what === "filter"
      ? "What each filter of the first layer looks for"
      : "What each hidden neuron looks for" + (weights.total > weights.pictures.length
        ? " (the first " + weights.pictures.length + " of " + weights.total + ")" : "");
    $("weights-note").textContent = weights.what === "filter"
      ? "Each picture is one filter's weights (those of each input map stacked), slid over the image: blue where a "
        + "bright pixel raises the filter's output, red where it lowers it, white for zero."
      : "Each picture is the first layer's weights into one neuron: blue where a bright pixel raises its "
        + "weighted input, red where it lowers it, white for zero. The neurons the drawn digit excites most are framed.";
    grid.textContent = "";
    weights.pictures.forEach((p, j) => {
      const cell = document.createElement("div");
      cell.className = "cell weight";
      const c = document.createElement("canvas");
      paint(c, p.width, p.height, base64Bytes(p.pixels), weightColour);
      const caption = document.createElement("span");
      caption.textContent = "#" + j;
      cell.title = weights.what + " " + j;
      cell.append(c, caption);
      grid.appendChild(cell);
    });
  } catch (e) {
    problem(e.message);
  }
}

// Frame the five neurons of the first hidden layer the digit excites most.
function markExcited(layer) {
  const cells = $("weights").children;
  for (const cell of cells) cell.classList.remove("excited");
  if (!layer || layer.kind !== "neurons") return;
  const order = layer.values.map((v, j) => [v === null ? -Infinity : v, j]).sort((a, b) => b[0] - a[0]);
  for (const [, j] of order.slice(0, 5)) if (cells[j]) cells[j].classList.add("excited");
}

//// Mistakes

async function showMistakes() {
  const grid = $("mistake-grid");
  try {
    const m = await api("/api/mistakes?" + modelQuery() + "&page=" + state.mistakesPage);
    state.mistakesPage = m.page;
    $("mistakes-note").textContent = m.read < m.of
      ? m.model + " has read " + m.read.toLocaleString("en") + " of the " + m.of.toLocaleString("en")
        + " test digits so far and got " + m.total.toLocaleString("en") + " wrong..."
      : m.model + " gets " + m.total.toLocaleString("en") + " of the " + m.of.toLocaleString("en") + " test digits wrong.";
    $("mistakes").dataset.complete = String(m.read >= m.of);
    clearTimeout(state.mistakesTimer);
    if (m.read < m.of) state.mistakesTimer = setTimeout(() => { if (currentView() === "mistakes") showMistakes(); }, 1000);
    $("page-info").textContent = "page " + m.page + " of " + m.pages;
    $("prev").disabled = m.page <= 1;
    $("next").disabled = m.page >= m.pages;
    grid.textContent = "";
    for (const item of m.items) {
      const cell = document.createElement("button");
      cell.type = "button";
      cell.className = "cell mistake";
      cell.dataset.index = item.index;
      cell.dataset.label = item.label;
      cell.dataset.predicted = item.predicted;
      const c = document.createElement("canvas");
      paint(c, SIDE, SIDE, item.image, inkOnPaper);
      const caption = document.createElement("span");
      caption.textContent = item.label + " \u2192 " + item.predicted;
      cell.append(c, caption);
      cell.addEventListener("click", () => loadDigit(item.image));
      grid.appendChild(cell);
    }
    problem("");
  } catch (e) {
    problem(e.message);
  }
}

function loadDigit(image) {
  state.strokes = [];
  state.testImage = image;
  state.background = backgroundFrom(SIDE, SIDE, image, inkOnPaper);
  redraw();
  choose("draw");
  ask();
}

$("prev").addEventListener("click", () => { state.mistakesPage -= 1; showMistakes(); });
$("next").addEventListener("click", () => { state.mistakesPage += 1; showMistakes(); });

//// Learn

function number(id) {
  const text = $(id).value.trim();
  return text === "" ? NaN : Number(text);
}

$("learn-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const hidden = $("hidden").value.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const settings = {hidden, eta: number("eta"), epochs: number("epochs"), images: number("images"),
                    lmbda: number("lmbda"), seed: number("seed")};
  for (const [name, value] of Object.entries(settings)) {
    if (name !== "hidden" && !Number.isFinite(value)) { problem(name + ": give a number"); return; }
  }
  try {
    showLearning(await postJSON("/api/learn", settings));
    problem("");
    pollLearning();
  } catch (e) {
    problem(e.message);
  }
});

$("stop").addEventListener("click", async () => {
  try { await postJSON("/api/learn/stop", {}); } catch (e) { problem(e.message); }
});

$("use-learned").addEventListener("click", async () => {
  await loadModels("learned");
  choose("draw");
});

function pollLearning() {
  clearTimeout(state.learnTimer);
  state.learnTimer = setTimeout(async () => {
    try {
      const status = await api("/api/learn");
      showLearning(status);
      if (status.state === "running") pollLearning();
      else if (status.model) await loadModels(state.model);
    } catch (e) {
      problem(e.message);
      pollLearning();
    }
  }, 400);
}

function showLearning(status) {
  const line = $("learn-status");
  line.dataset.state = status.state;
  line.dataset.epochs = status.epochs.length;
  const what = status.settings ? "[784," + status.settings.hidden.join(",") + ",10], eta " + status.settings.eta
    + ", " + status.settings.images + " images: " : "";
  line.textContent = status.state === "idle" ? "no network is learning" : what + status.state + ", " + status.message;
  $("start").disabled = status.state === "running";
  $("stop").disabled = status.state !== "running";
  $("use-learned").hidden = !status.model;
  const epochs = status.epochs;
  chart($("accuracy-chart"), "validation accuracy (%)", epochs.map((e) => [e.epoch, 100 * e.accuracy]),
        status.settings ? status.settings.epochs : 10);
  chart($("cost-chart"), "training cost", epochs.map((e) => [e.epoch, e.cost]),
        status.settings ? status.settings.epochs : 10);
}

const SVG = "http://www.w3.org/2000/svg";

function svg(parent, name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

// Round numbers for an axis from low to high: about `count` of them.
function ticks(low, high, count) {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function chart(node, title, points, epochs) {
  node.textContent = "";
  const W = Number(node.getAttribute("width")), H = Number(node.getAttribute("height"));
  const left = 56, right = 16, top = 28, bottom = 40;
  svg(node, "text", {x: left, y: 18, class: "title"}, title);
  const ys = points.map((p) => p[1]).filter((v) => v !== null && Number.isFinite(v));
  let low = ys.length ? Math.min(...ys) : 0, high = ys.length ? Math.max(...ys) : 1;
  if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
  const pad = (high - low) * 0.08;
  low -= pad; high += pad;
  const x = (e) => left + (W - left - right) * (epochs > 1 ? (e - 1) / (epochs - 1) : 0.5);
  const y = (v) => top + (H - top - bottom) * (1 - (v - low) / (high - low));
  for (const t of ticks(low, high, 5)) {
    svg(node, "line", {x1: left, x2: W - right, y1: y(t), y2: y(t), class: "grid-line"});
    svg(node, "text", {x: left - 6, y: y(t) + 4, "text-anchor": "end"}, String(t));
  }
  for (const t of ticks(1, epochs, Math.min(epochs, 8)).filter((t) => Number.isInteger(t))) {
    svg(node, "text", {x: x(t), y: H - bottom + 16, "text-anchor": "middle"}, String(t));
  }
  svg(node, "line", {x1: left, x2: left, y1: top, y2: H - bottom, class: "axis"});
  svg(node, "line", {x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "axis"});
  svg(node, "text", {x: (left + W - right) / 2, y: H - 6, "text-anchor": "middle"}, "epoch");
  if (!points.length) return;
  svg(node, "polyline", {points: points.map((p) => x(p[0]) + "," + y(p[1])).join(" "), class: "series"});
  for (const p of points) {
    const dot = svg(node, "circle", {cx: x(p[0]), cy: y(p[1]), r: 3, class: "point"});
    svg(dot, "title", {}, "epoch " + p[0] + ": " + p[1].toFixed(4));
  }
}

//// tabs and models

function currentView() {
  const tab = document.querySelector('.tab[aria-selected="true"]');
  return tab ? tab.dataset.view : "draw";
}

function choose(view) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  if (view === "inside") showInside();
  if (view === "mistakes") showMistakes();
}

for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => choose(tab.dataset.view));

async function loadModels(wanted) {
  try {
    const {models} = await api("/api/models");
    const select = $("model");
    select.textContent = "";
    for (const m of models) {
      const option = document.createElement("option");
      option.value = m.name;
      option.textContent = m.name + " (" + m.source + ")";
      select.appendChild(option);
    }
    const names = models.map((m) => m.name);
    state.model = names.includes(wanted) ? wanted : (names.includes(state.model) ? state.model : names[0] || null);
    select.value = state.model || "";
    modelChanged();
  } catch (e) {
    problem(e.message);
  }
}

function modelChanged() {
  state.weightsFor = null;
  state.mistakesPage = 1;
  document.body.dataset.model = state.model || "";
  if (currentView() === "mistakes") showMistakes();
  if (currentView() === "inside") showInside();
  ask();
}

$("model").addEventListener("change", () => { state.model = $("model").value; modelChanged(); });

redraw();
show(null);
loadModels(null);
api("/api/learn").then((status) => { showLearning(status); if (status.state === "running") pollLearning(); })
  .catch((e) => problem(e.message));
