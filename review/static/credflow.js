/* credflow review screens: keyboard flow, the page image (zoom, rotate, pages, boxes),
   filling a field by clicking or dragging over words, and keeping the review claim alive.
   Plain JavaScript, no build step. Single-key shortcuts work only while no text field has
   focus (WCAG 2.1.4); everything else uses Enter, Tab, Esc or a modifier. */
(() => {
  "use strict";

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrfToken = () => ($('meta[name="csrf-token"]') || {}).content || "";
  const isTyping = (el) =>
    !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const openDialog = () => $("dialog[open]");

  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "HX-Request": "true" },
    });
  }

  /* ---- dialogs (reject, needs information, keys) ------------------------------------ */
  document.addEventListener("click", (ev) => {
    const opener = ev.target.closest("[data-opens]");
    if (opener) {
      const dlg = document.getElementById(opener.dataset.opens);
      if (dlg && !dlg.open) {
        dlg.showModal();
        const first = $("textarea, input:not([type=hidden]), button", dlg);
        if (first) first.focus();
      }
      return;
    }
    const closer = ev.target.closest("[data-close]");
    if (closer) closer.closest("dialog").close();
    const help = ev.target.closest('[data-action="help"]');
    if (help) showHelp();
  });

  function showHelp() {
    const dlg = $("#help-dialog");
    if (dlg && !dlg.open) dlg.showModal();
  }

  /* ---- queue: tell when new documents arrived ----------------------------------------- */
  document.addEventListener("htmx:afterSwap", (ev) => {
    const counts = ev.detail.target;
    if (!counts || counts.id !== "counts") return;
    const note = $("#new-arrivals");
    const results = $("#queue-results");
    if (!note || !results) return;
    const shown = Number(results.dataset.awaiting || "0");
    const now = Number(counts.dataset.awaiting || "0");
    note.hidden = now === shown;
  });

  /* ---- review screen ------------------------------------------------------------------ */
  const review = $(".review");
  if (!review) {
    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(document.activeElement)) return;
      if (openDialog()) return;
      if (ev.key === "?") showHelp();
      const start = $('[data-action="start"]');
      if (ev.key === "n" && start) start.click();
      if (ev.key === "/") {
        const search = $("#f-q");
        if (search) {
          ev.preventDefault();
          search.focus();
        }
      }
    });
    return;
  }

  const docId = review.dataset.documentId;
  const editable = review.dataset.editable === "1";
  const form = $("#review-form");
  const sheet = $("#sheet");
  const stage = $("#stage");
  const img = $('[data-role="page-image"]');
  const wordsLayer = $("#words");
  const boxesLayer = $("#boxes");
  const dragRect = $("#drag-rect");
  const approveButton = $('[data-action="approve"]');
  let pages = [];
  try {
    pages = JSON.parse(($("#pages-data") || {}).textContent || "[]");
  } catch (_) {
    pages = [];
  }
  const view = { page: 1, zoom: 1, rotation: 0 };
  let lastField = null; // the field words go into when the page is clicked

  const fieldInputs = () => $$("#fields .field-value");
  const rowOf = (input) => input.closest(".field");
  const boxInput = (name) => form && form.elements[name + "__box"];
  const stateSelect = (name) => form && form.elements[name + "__state"];

  function parseBox(raw) {
    try {
      const b = JSON.parse(raw || "null");
      return Array.isArray(b) && b.length === 5 ? b.map(Number) : null;
    } catch (_) {
      return null;
    }
  }

  /* -- the page image: pages, zoom, rotation -- */
  function showPage(n) {
    if (!img || !pages.length) return;
    n = Math.max(1, Math.min(pages.length, n));
    view.page = n;
    sheet.dataset.page = String(n);
    img.src = `/documents/${docId}/pages/${n}.png`;
    img.alt = `Page ${n} of ${pages.length}`;
    $$(".thumb").forEach((t) => {
      const on = Number(t.dataset.gotoPage) === n;
      t.classList.toggle("thumb-on", on);
      t.setAttribute("aria-pressed", on ? "true" : "false");
    });
    renderWords();
    $$(".box", boxesLayer).forEach((b) => {
      b.hidden = Number(b.dataset.page) !== n;
    });
  }

  function applyView() {
    if (!sheet) return;
    sheet.style.width = `${Math.round(view.zoom * 100)}%`;
    sheet.style.transform = view.rotation ? `rotate(${view.rotation}deg)` : "";
    const out = $("#zoom-level");
    if (out) out.textContent = `${Math.round(view.zoom * 100)}%`;
    // keep the focused field's box in sight at the new size
    const focused = boxesLayer && $(".box-focus", boxesLayer);
    if (focused) scrollBoxIntoView(focused);
  }

  const ZOOMS = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4];
  function zoom(step) {
    if (step === 0) view.zoom = 1;
    else {
      const i = ZOOMS.findIndex((z) => z >= view.zoom - 1e-6);
      const next = Math.max(0, Math.min(ZOOMS.length - 1, (i < 0 ? 3 : i) + step));
      view.zoom = ZOOMS[next];
    }
    applyView();
  }

  function rotate() {
    view.rotation = (view.rotation + 90) % 360;
    applyView();
  }

  const pct = (f) => `${(f * 100).toFixed(3)}%`;
  function place(el, x0, y0, x1, y1) {
    el.style.left = pct(x0);
    el.style.top = pct(y0);
    el.style.width = pct(Math.max(0, x1 - x0));
    el.style.height = pct(Math.max(0, y1 - y0));
  }

  function currentWords() {
    const p = pages.find((pg) => pg.number === view.page);
    return p ? p.words : [];
  }

  function renderWords() {
    if (!wordsLayer) return;
    const frag = document.createDocumentFragment();
    currentWords().forEach((w, i) => {
      const span = document.createElement("span");
      span.className = "word";
      span.dataset.i = String(i);
      place(span, w[2], w[3], w[4], w[5]);
      frag.appendChild(span);
    });
    wordsLayer.replaceChildren(frag);
  }

  /* -- field boxes, drawn from the hidden FIELD__box inputs -- */
  function syncBoxes() {
    if (!boxesLayer || !form) return;
    const frag = document.createDocumentFragment();
    fieldInputs().forEach((input) => {
      const name = input.name;
      const box = parseBox(boxInput(name) && boxInput(name).value);
      if (!box) return;
      const row = rowOf(input);
      const level = ["high", "medium", "low", "missing"].find((l) =>
        row.classList.contains(`field-${l}`),
      );
      const el = document.createElement("div");
      el.className = `box box-${level || "high"}`;
      el.dataset.boxFor = name;
      el.dataset.page = String(box[0]);
      const label = document.createElement("span");
      label.className = "box-label";
      label.textContent = ($(`label[for="${input.id}"]`) || {}).textContent || name;
      el.appendChild(label);
      place(el, box[1], box[2], box[3], box[4]);
      el.hidden = box[0] !== view.page;
      if (input === lastField) el.classList.add("box-focus");
      frag.appendChild(el);
    });
    boxesLayer.replaceChildren(frag);
  }

  function highlight(name) {
    $$(".box", boxesLayer).forEach((b) => b.classList.remove("box-focus"));
    const box = boxesLayer && $(`[data-box-for="${name}"]`, boxesLayer);
    if (!box) return;
    const page = Number(box.dataset.page);
    if (page !== view.page) showPage(page);
    box.classList.add("box-focus");
    scrollBoxIntoView(box);
  }

  function scrollBoxIntoView(box) {
    if (!stage) return;
    const s = stage.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    const margin = 40;
    if (b.top < s.top + margin || b.bottom > s.bottom - margin) {
      stage.scrollTop += b.top - s.top - s.height / 2 + b.height / 2;
    }
    if (b.left < s.left + margin || b.right > s.right - margin) {
      stage.scrollLeft += b.left - s.left - s.width / 2 + b.width / 2;
    }
  }

  /* -- filling a field -- */
  function setField(input, value, box) {
    input.value = value;
    const bi = boxInput(input.name);
    if (bi && box) bi.value = JSON.stringify(box.map((c, i) => (i ? Number(c.toFixed(5)) : c)));
    const st = stateSelect(input.name);
    if (st && value) st.value = "confirmed";
    updateState(input);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    syncBoxes();
    highlight(input.name);
  }

  function updateState(input) {
    const st = stateSelect(input.name);
    const row = rowOf(input);
    if (!st || !row) return;
    row.classList.toggle("state-unsure", st.value === "unsure");
    row.classList.toggle("state-absent", st.value === "absent");
  }

  /* -- the keyboard flow through the fields -- */
  function needsAttention(input) {
    const row = rowOf(input);
    return row.dataset.attention === "1" && !row.classList.contains("is-confirmed");
  }

  function confirmField(input) {
    const row = rowOf(input);
    row.classList.add("is-confirmed");
    validate(input);
  }

  function goNext(input) {
    const list = fieldInputs();
    const i = list.indexOf(input);
    const after = list.slice(i + 1).find(needsAttention);
    const wrapped = after || list.slice(0, Math.max(0, i)).find(needsAttention);
    if (wrapped) wrapped.focus();
    else if (approveButton) approveButton.focus();
  }

  function goPrev(input) {
    const list = fieldInputs();
    const i = list.indexOf(input);
    if (i > 0) list[i - 1].focus();
    else {
      const type = $("#doc_type");
      if (type) type.focus();
    }
  }

  function focusFirst() {
    const invalid = $('#fields .field-value[aria-invalid="true"]');
    const first = fieldInputs().find(needsAttention);
    const target = invalid || first || approveButton;
    if (target) target.focus();
  }

  /* -- checks as the person types (the server checks again on approval) -- */
  const USPS = new Set(
    ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV " +
      "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI").split(" "),
  );
  function npiProblem(v) {
    if (!/^\d{10}$/.test(v)) return "NPI must be 10 digits";
    const digits = ("80840" + v.slice(0, 9)).split("").map(Number);
    let total = 0;
    digits.reverse().forEach((d, i) => {
      if (i % 2 === 0) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      total += d;
    });
    return (10 - (total % 10)) % 10 === Number(v[9]) ? null : "NPI check digit does not match";
  }
  function deaProblem(v) {
    if (!/^[A-Z][A-Z9]\d{7}$/.test(v)) return "DEA number must be two letters and seven digits";
    const d = v.slice(2).split("").map(Number);
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 === d[6]
      ? null
      : "DEA check digit does not match";
  }
  function problemOf(name, raw) {
    const v = raw.trim();
    if (!v) return null;
    if (/_date$/.test(name)) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v + "T00:00:00Z")))
        return "Date must be YYYY-MM-DD";
      return null;
    }
    if (name === "npi") return npiProblem(v.replace(/[\s-]/g, ""));
    if (name === "jurisdiction" && !USPS.has(v.toUpperCase()))
      return "Jurisdiction must be a US state or territory code (e.g. OH)";
    const type = ($("#doc_type") || {}).value;
    if (name === "credential_number" && type === "dea_registration")
      return deaProblem(v.replace(/\s/g, "").toUpperCase());
    if (name === "schedules" && !/^[1-5]N?(,[1-5]N?)*$/i.test(v.replace(/\s/g, "")))
      return 'Schedules are numbers 1-5, optionally with N, e.g. "2,2N,3,4,5"';
    if (name === "credit_hours" && !/^\d+(\.\d+)?$/.test(v)) return 'Credit hours are a number, e.g. "12.5"';
    return null;
  }
  function validate(input) {
    const out = document.getElementById(`v-${input.name}`);
    if (!out) return;
    const st = stateSelect(input.name);
    const problem = st && st.value !== "confirmed" ? null : problemOf(input.name, input.value);
    const listed = document.getElementById(`p-${input.name}`);
    const changed = input.value !== input.dataset.machine;
    if (listed) listed.hidden = changed;
    // the machine's own messages are listed already while its value stands
    out.textContent = problem && (changed || !listed) ? `⚠ ${problem}` : "";
    if (problem || (listed && !changed)) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  /* -- page clicks and drags fill the focused field -- */
  function toFraction(ev) {
    const r = sheet.getBoundingClientRect();
    const cx = r.left + r.width / 2;
    const cy = r.top + r.height / 2;
    const a = (-view.rotation * Math.PI) / 180;
    const dx = ev.clientX - cx;
    const dy = ev.clientY - cy;
    const x = dx * Math.cos(a) - dy * Math.sin(a);
    const y = dx * Math.sin(a) + dy * Math.cos(a);
    const w = sheet.offsetWidth;
    const h = sheet.offsetHeight;
    return [(x + w / 2) / w, (y + h / 2) / h];
  }

  function pickWords(x0, y0, x1, y1, point) {
    const words = currentWords();
    if (point) {
      const [x, y] = point;
      const hit = words.findIndex((w) => x >= w[2] && x <= w[4] && y >= w[3] && y <= w[5]);
      if (hit >= 0) return [hit];
      let best = -1;
      let dist = 0.02; // at most 2% of the page away
      words.forEach((w, i) => {
        const dx = Math.max(w[2] - x, 0, x - w[4]);
        const dy = Math.max(w[3] - y, 0, y - w[5]);
        const d = Math.hypot(dx, dy);
        if (d < dist) {
          dist = d;
          best = i;
        }
      });
      return best >= 0 ? [best] : [];
    }
    const out = [];
    words.forEach((w, i) => {
      const cx = (w[2] + w[4]) / 2;
      const cy = (w[3] + w[5]) / 2;
      if (cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1) out.push(i);
    });
    return out;
  }

  function fillFromWords(indices) {
    const target = lastField || fieldInputs().find(needsAttention) || fieldInputs()[0];
    if (!target || !indices.length) return;
    const words = currentWords();
    const chosen = indices.map((i) => words[i]);
    const text = chosen.map((w) => w[0]).join(" ");
    const box = [
      view.page,
      Math.min(...chosen.map((w) => w[2])),
      Math.min(...chosen.map((w) => w[3])),
      Math.max(...chosen.map((w) => w[4])),
      Math.max(...chosen.map((w) => w[5])),
    ];
    $$(".word-picked", wordsLayer).forEach((el) => el.classList.remove("word-picked"));
    indices.forEach((i) => {
      const el = $(`.word[data-i="${i}"]`, wordsLayer);
      if (el) el.classList.add("word-picked");
    });
    setField(target, text, box);
    target.focus();
  }

  if (wordsLayer && editable) {
    let start = null;
    wordsLayer.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      ev.preventDefault(); // keep the caret in the field being filled
      start = { x: ev.clientX, y: ev.clientY, f: toFraction(ev), moved: false };
      wordsLayer.setPointerCapture(ev.pointerId);
    });
    wordsLayer.addEventListener("pointermove", (ev) => {
      if (!start) return;
      if (!start.moved && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) < 5) return;
      start.moved = true;
      const f = toFraction(ev);
      dragRect.hidden = false;
      place(
        dragRect,
        Math.min(start.f[0], f[0]),
        Math.min(start.f[1], f[1]),
        Math.max(start.f[0], f[0]),
        Math.max(start.f[1], f[1]),
      );
    });
    const finish = (ev) => {
      if (!start) return;
      const f = toFraction(ev);
      const s = start;
      start = null;
      dragRect.hidden = true;
      const picked = s.moved
        ? pickWords(
            Math.min(s.f[0], f[0]),
            Math.min(s.f[1], f[1]),
            Math.max(s.f[0], f[0]),
            Math.max(s.f[1], f[1]),
          )
        : pickWords(0, 0, 0, 0, f);
      fillFromWords(picked);
    };
    wordsLayer.addEventListener("pointerup", finish);
    wordsLayer.addEventListener("pointercancel", () => {
      start = null;
      dragRect.hidden = true;
    });
  }

  /* -- events on the form -- */
  if (form) {
    form.addEventListener("focusin", (ev) => {
      const input = ev.target.closest(".field-value");
      $$(".field.is-active").forEach((r) => r.classList.remove("is-active"));
      if (!input) return;
      lastField = input;
      input.dataset.before = input.value;
      const bi = boxInput(input.name);
      input.dataset.beforeBox = bi ? bi.value : "";
      rowOf(input).classList.add("is-active");
      highlight(input.name);
    });

    form.addEventListener("input", (ev) => {
      const input = ev.target.closest(".field-value");
      if (input) validate(input);
    });

    form.addEventListener("change", (ev) => {
      const sel = ev.target.closest(".field-state");
      if (sel) {
        const input = form.elements[sel.name.replace(/__state$/, "")];
        if (input) {
          updateState(input);
          validate(input);
        }
      }
    });

    form.addEventListener("click", (ev) => {
      const cand = ev.target.closest(".candidate");
      if (!cand) return;
      const input = $(".field-value", cand.closest(".field"));
      setField(input, cand.dataset.candidate, parseBox(cand.dataset.box));
      input.focus();
    });

    form.addEventListener("keydown", (ev) => {
      const input = ev.target.closest(".field-value");
      if (!input) return;
      const plain = !ev.ctrlKey && !ev.metaKey && !ev.altKey;
      if (plain && (ev.key === "Enter" || (ev.key === "Tab" && !ev.shiftKey))) {
        ev.preventDefault();
        confirmField(input);
        goNext(input);
      } else if (plain && ev.key === "Tab" && ev.shiftKey) {
        ev.preventDefault();
        goPrev(input);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        if (input.value !== input.dataset.before) {
          input.value = input.dataset.before || "";
          const bi = boxInput(input.name);
          if (bi) bi.value = input.dataset.beforeBox || "";
          validate(input);
          syncBoxes();
          highlight(input.name);
        } else {
          input.blur();
          $$(".box", boxesLayer).forEach((b) => b.classList.remove("box-focus"));
          lastField = null;
        }
      } else if (ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        const key = ev.key.toLowerCase();
        const states = { u: "unsure", n: "absent", c: "confirmed" };
        const code = /^Digit([1-9])$/.exec(ev.code);
        if (code) {
          const cands = $$(".candidate", rowOf(input));
          const c = cands[Number(code[1]) - 1];
          if (c) {
            ev.preventDefault();
            c.click();
          }
        } else if (states[key] || states[(ev.code || "").replace("Key", "").toLowerCase()]) {
          ev.preventDefault();
          const st = stateSelect(input.name);
          st.value = states[key] || states[ev.code.replace("Key", "").toLowerCase()];
          updateState(input);
          validate(input);
        }
      }
    });

    form.addEventListener("submit", () => {
      review.dataset.submitting = "1";
    });
  }

  /* after the doc_type changes, the fields are new: redraw their boxes */
  document.addEventListener("htmx:afterSwap", (ev) => {
    if (ev.detail.target && ev.detail.target.id === "fields") {
      lastField = null;
      syncBoxes();
      fieldInputs().forEach(validate);
    }
  });

  /* -- keys for the whole screen -- */
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      if (openDialog() || !editable || !form) return;
      ev.preventDefault();
      form.elements.next.value = "1";
      form.requestSubmit(approveButton);
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || openDialog()) return;
    if (isTyping(document.activeElement)) return; // WCAG 2.1.4: no single keys while typing
    const actions = {
      "?": showHelp,
      "+": () => zoom(1),
      "=": () => zoom(1),
      "-": () => zoom(-1),
      0: () => zoom(0),
      r: rotate,
      "[": () => showPage(view.page - 1),
      "]": () => showPage(view.page + 1),
      w: () => {
        const on = wordsLayer && wordsLayer.classList.toggle("show-words");
        const b = $('[data-view="words"]');
        if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
      },
      f: focusFirst,
    };
    const act = actions[ev.key];
    if (act) {
      ev.preventDefault();
      act();
    }
  });

  /* -- toolbar buttons: a click on them leaves the caret in the field being checked -- */
  document.addEventListener("mousedown", (ev) => {
    if (ev.target.closest("[data-view], [data-goto-page]")) ev.preventDefault();
  });
  document.addEventListener("click", (ev) => {
    const t = ev.target.closest("[data-view]");
    if (t) {
      const what = t.dataset.view;
      if (what === "zoom-in") zoom(1);
      else if (what === "zoom-out") zoom(-1);
      else if (what === "fit") zoom(0);
      else if (what === "rotate") rotate();
      else if (what === "words" && wordsLayer) {
        const on = wordsLayer.classList.toggle("show-words");
        t.setAttribute("aria-pressed", on ? "true" : "false");
      }
      return;
    }
    const g = ev.target.closest("[data-goto-page]");
    if (g) showPage(Number(g.dataset.gotoPage));
    const skip = ev.target.closest('[data-action="skip"]');
    if (skip) {
      review.dataset.submitting = "1";
      // a form post (with the CSRF token): giving back and claiming the next change state
      const next = document.createElement("form");
      next.method = "post";
      next.action = `/review/${docId}/release?to=next`;
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrf_token";
      token.value = csrfToken();
      next.appendChild(token);
      document.body.appendChild(next);
      next.submit();
    }
  });

  /* -- keep the claim while the page is open -- */
  if (editable) {
    const seconds = Math.max(10, Number(review.dataset.claimSeconds || "300") / 3);
    const timer = window.setInterval(async () => {
      try {
        const res = await post(`/review/${docId}/claim`);
        if (res.status === 409 || res.status === 401 || res.status === 403) {
          window.clearInterval(timer);
          let holder = "someone else";
          try {
            holder = (await res.json()).holder || holder;
          } catch (_) {
            /* not JSON */
          }
          const lost = $("#claim-lost");
          if (lost) {
            $("[data-holder]", lost).textContent = holder;
            lost.hidden = false;
          }
          const fs = $("fieldset.plain", form);
          if (fs) fs.disabled = true;
        }
      } catch (_) {
        /* offline for a moment: the next beat tries again */
      }
    }, seconds * 1000);
  }

  /* -- provider suggestions follow the typed name and NPI (an htmx trigger filter would
     need eval, which the Content-Security-Policy forbids) -- */
  const fieldsPane = $("#fields");
  if (fieldsPane) {
    fieldsPane.addEventListener("change", (ev) => {
      const name = ev.target && ev.target.name;
      const suggestions = $("#provider-suggestions");
      if (suggestions && (name === "person_name" || name === "npi")) {
        suggestions.dispatchEvent(new CustomEvent("person-changed"));
      }
    });
  }

  /* -- start -- */
  // boxes drawn by the server carry their place as data (no inline styles under the CSP)
  $$("[data-box]").forEach((el) => {
    const b = el.dataset.box.split(" ").map(Number);
    place(el, b[0], b[1], b[2], b[3]);
  });
  applyView();
  showPage(1);
  syncBoxes();
  fieldInputs().forEach((input) => {
    updateState(input);
    const out = document.getElementById(`v-${input.name}`);
    if (out && !out.textContent.trim()) validate(input);
  });
  if (editable) focusFirst();
})();
