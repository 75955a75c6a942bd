// The medcodes search page: autocomplete, results, facets and a code's detail.
//
// Safety rule: text from the data or the query is only ever set with textContent.
// The one exception is the API's `highlight` fields, which the server escapes and
// marks with <mark>; those are parsed in an inert <template> and used only if they
// contain nothing but <mark> elements without attributes.
"use strict";

(() => {
  const PAGE_SIZE = 20;
  const MAX_OFFSET = 1000; // the API refuses larger offsets
  const SUGGEST_DELAY_MS = 120;
  const FACETS_SHOWN = 8; // values per facet before "show all"
  const COMPLETIONS_SHOWN = 5; // so that codes are in view without scrolling
  const FACET_NAMES = { system: "System", category: "Category", specialty: "Specialty" };
  const SYSTEM_LABELS = { icd10cm: "ICD-10-CM", hcpcs: "HCPCS" };
  const EXAMPLES = ["wheelchair", "bone scan", "DM2 w/o complications", "E11.9", "K0001"];
  // Physician Fee Schedule status indicators, so a bare letter means something.
  const RVU_STATUS = {
    A: "Active code, paid under the fee schedule",
    B: "Bundled code, payment included in other services",
    C: "Carrier-priced code",
    D: "Deleted code",
    E: "Excluded from the fee schedule by regulation",
    F: "Deleted or discontinued, no grace period",
    G: "Not valid for Medicare; another code applies",
    H: "Deleted modifier",
    I: "Not valid for Medicare purposes",
    J: "Anesthesia services",
    M: "Measurement code, for reporting only",
    N: "Non-covered service",
    P: "Bundled or excluded code",
    R: "Restricted coverage",
    T: "Injection; paid only if no other service that day",
    X: "Statutory exclusion, not in the fee schedule",
  };
  const RVU_FIELDS = [
    ["work_rvu", "Work RVU"],
    ["pe_rvu_nonfacility", "Practice expense RVU (non-facility)"],
    ["pe_rvu_facility", "Practice expense RVU (facility)"],
    ["malpractice_rvu", "Malpractice RVU"],
    ["total_rvu_nonfacility", "Total RVU (non-facility)"],
    ["total_rvu_facility", "Total RVU (facility)"],
    ["global_days", "Global days"],
  ];
  const ATTRIBUTE_LABELS = {
    betos: "BETOS",
    coverage: "Coverage",
    action: "Action",
    action_effective: "Action effective",
    type_of_service: "Type of service",
    release: "Release",
    releases: "Releases",
  };

  const $ = (id) => document.getElementById(id);
  const input = $("q");
  const listbox = $("suggestions");
  const liveStatus = $("suggest-status");
  const dialog = $("detail");

  // -- small DOM helpers -------------------------------------------------------

  /** An element with a class and text content (never markup). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** Server-highlighted HTML as nodes, or the plain text if it is anything else. */
  function highlighted(html, plain) {
    if (typeof html !== "string") return document.createTextNode(plain || "");
    const template = document.createElement("template");
    template.innerHTML = html; // inert: nothing in a template loads or runs
    const safe = Array.from(template.content.querySelectorAll("*")).every(
      (node) => node.tagName === "MARK" && node.attributes.length === 0,
    );
    return safe ? template.content : document.createTextNode(plain || "");
  }

  /** A facet value's label; ids without a name of their own ("betos:D") read "BETOS D". */
  function valueLabel(value) {
    if (value.label && value.label !== value.id && value.label !== value.value) {
      return value.label;
    }
    const id = value.id || value.value || value.label;
    const colon = id.indexOf(":");
    return colon > 0 ? `${id.slice(0, colon).toUpperCase()} ${id.slice(colon + 1)}` : id;
  }

  function systemLabel(system) {
    return SYSTEM_LABELS[system] || system;
  }

  // -- URL state -----------------------------------------------------------------

  /** The page's state as held in the query string. */
  function readState() {
    const params = new URLSearchParams(window.location.search);
    const offset = Number.parseInt(params.get("offset") || "0", 10);
    return {
      q: params.get("q") || "",
      system: params.getAll("system"),
      category: params.getAll("category"),
      specialty: params.getAll("specialty"),
      offset: Number.isFinite(offset) && offset > 0 ? Math.min(offset, MAX_OFFSET) : 0,
      terminated: params.get("terminated") === "1",
      code: params.get("code") || "",
      codeSystem: params.get("code_system") || "",
    };
  }

  function stateQuery(state) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    for (const name of Object.keys(FACET_NAMES)) {
      for (const value of state[name]) params.append(name, value);
    }
    if (state.offset) params.set("offset", String(state.offset));
    if (state.terminated) params.set("terminated", "1");
    if (state.code) params.set("code", state.code);
    if (state.code && state.codeSystem) params.set("code_system", state.codeSystem);
    const text = params.toString();
    return text ? `?${text}` : window.location.pathname;
  }

  function hasSearch(state) {
    return Boolean(state.q || state.system.length || state.category.length ||
      state.specialty.length);
  }

  let current = readState();

  /** Move to a new state: a new history entry, then show it. */
  function navigate(changes) {
    const next = { ...current, ...changes };
    history.pushState(null, "", stateQuery(next));
    show(next);
  }

  window.addEventListener("popstate", () => show(readState()));

  // -- API -----------------------------------------------------------------------

  class ApiError extends Error {}

  /** GET a JSON endpoint; API errors become ApiError with the server's message. */
  async function api(path, params, signal) {
    const url = params ? `${path}?${params.toString()}` : path;
    let response;
    try {
      response = await fetch(url, { signal, headers: { Accept: "application/json" } });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError("The search service could not be reached. Is it running?");
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error && body.error.message;
      throw new ApiError(message || `The server answered ${response.status}.`);
    }
    return body;
  }

  function showError(error) {
    if (error && error.name === "AbortError") return;
    const box = $("error");
    box.textContent = error instanceof ApiError ? error.message : `Something went wrong: ${error}`;
    box.hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  // -- autocomplete (ARIA combobox with a listbox popup) ---------------------------

  const combo = {
    typed: "", // what the user typed, restored by Escape
    options: [], // {id, kind: "completion"|"code", text, code, system, node}
    active: -1,
    timer: 0,
    sequence: 0,
    controller: null,
  };

  function closeList(restore) {
    if (restore) input.value = combo.typed;
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    combo.active = -1;
  }

  function openList() {
    if (!combo.options.length) return;
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function setActive(index) {
    if (combo.active >= 0 && combo.options[combo.active]) {
      combo.options[combo.active].node.setAttribute("aria-selected", "false");
    }
    combo.active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      input.value = combo.typed;
      return;
    }
    const option = combo.options[index];
    option.node.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.node.scrollIntoView({ block: "nearest" });
    input.value = option.kind === "code" ? option.code : option.text;
  }

  function renderSuggestions(data) {
    listbox.replaceChildren();
    combo.options = [];
    combo.active = -1;
    const groups = [
      ["Searches", data.completions.slice(0, COMPLETIONS_SHOWN)
        .map((c) => ({ kind: "completion", text: c.text }))],
      ["Codes", data.codes.map((c) => ({ kind: "code", code: c.code, system: c.system,
        text: c.title }))],
    ];
    for (const [label, options] of groups) {
      if (!options.length) continue;
      const group = el("div", "suggest-group");
      group.setAttribute("role", "group");
      const heading = el("div", "suggest-heading", label);
      heading.id = `suggest-${label.toLowerCase()}`;
      heading.setAttribute("role", "presentation");
      group.setAttribute("aria-labelledby", heading.id);
      group.append(heading);
      for (const option of options) {
        const index = combo.options.length;
        const node = el("div", `option kind-${option.kind}`);
        option.id = `suggestion-${index}`;
        node.id = option.id;
        node.setAttribute("role", "option");
        node.setAttribute("aria-selected", "false");
        if (option.kind === "code") {
          node.append(el("span", "option-code", option.code), " ",
            el("span", "option-system", systemLabel(option.system)), " ",
            el("span", "option-title", option.text));
          node.setAttribute("aria-label",
            `${option.code}, ${systemLabel(option.system)}: ${option.text}`);
        } else {
          node.append(el("span", "option-text", option.text));
        }
        // mousedown keeps focus in the input; click does the picking.
        node.addEventListener("mousedown", (event) => event.preventDefault());
        node.addEventListener("click", () => pick(index));
        node.addEventListener("mousemove", () => {
          if (combo.active !== index) highlightOnly(index);
        });
        option.node = node;
        combo.options.push(option);
        group.append(node);
      }
      listbox.append(group);
    }
    const completions = Math.min(data.completions.length, COMPLETIONS_SHOWN);
    const codes = data.codes.length;
    if (completions + codes) {
      liveStatus.textContent = `${completions + codes} suggestions: ` +
        `${completions} searches and ${codes} codes. Use up and down arrows to choose.`;
      openList();
    } else {
      liveStatus.textContent = "No suggestions.";
      closeList(false);
    }
  }

  /** Mark an option under the mouse without changing the typed text. */
  function highlightOnly(index) {
    if (combo.active >= 0 && combo.options[combo.active]) {
      combo.options[combo.active].node.setAttribute("aria-selected", "false");
    }
    combo.active = index;
    combo.options[index].node.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", combo.options[index].id);
  }

  async function fetchSuggestions(text) {
    const sequence = ++combo.sequence;
    if (combo.controller) combo.controller.abort();
    combo.controller = new AbortController();
    try {
      const data = await api("/api/suggest", new URLSearchParams({ q: text, limit: "8" }),
        combo.controller.signal);
      // Drop answers to anything but the latest request, and answers that arrive
      // after the user has moved on.
      if (sequence !== combo.sequence || document.activeElement !== input) return;
      renderSuggestions(data);
    } catch (error) {
      if (error.name !== "AbortError" && sequence === combo.sequence) closeList(false);
    }
  }

  function cancelSuggestions() {
    clearTimeout(combo.timer);
    combo.sequence += 1;
    if (combo.controller) combo.controller.abort();
    combo.controller = null;
  }

  function pick(index) {
    const option = combo.options[index];
    cancelSuggestions();
    if (option.kind === "code") {
      input.value = combo.typed;
      closeList(false);
      navigate({ code: option.code, codeSystem: option.system });
    } else {
      combo.typed = option.text;
      input.value = option.text;
      closeList(false);
      search(option.text);
    }
  }

  function search(text) {
    navigate({ q: text.trim(), offset: 0, code: "", codeSystem: "" });
  }

  input.addEventListener("input", () => {
    combo.typed = input.value;
    clearTimeout(combo.timer);
    const text = input.value.trim();
    if (!text) {
      cancelSuggestions();
      closeList(false);
      liveStatus.textContent = "";
      return;
    }
    combo.timer = setTimeout(() => fetchSuggestions(text), SUGGEST_DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    const count = combo.options.length;
    const open = !listbox.hidden;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) {
          openList();
          if (count) setActive(0);
        } else if (count) {
          setActive(combo.active + 1 >= count ? -1 : combo.active + 1);
        }
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!open) {
          openList();
          if (count) setActive(count - 1);
        } else if (count) {
          setActive(combo.active <= -1 ? count - 1 : combo.active - 1);
        }
        break;
      case "Enter":
        if (open && combo.active >= 0) {
          event.preventDefault();
          pick(combo.active);
        }
        break; // otherwise the form submits
      case "Escape":
        if (open) {
          event.preventDefault();
          cancelSuggestions();
          closeList(true);
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          combo.typed = "";
        }
        break;
      case "Tab":
        closeList(false);
        break;
      default:
        break;
    }
  });

  input.addEventListener("blur", () => {
    cancelSuggestions();
    closeList(false);
  });
  input.addEventListener("focus", () => {
    combo.typed = input.value;
  });

  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    cancelSuggestions();
    closeList(false);
    combo.typed = input.value;
    search(input.value);
  });

  $("home-link").addEventListener("click", (event) => {
    event.preventDefault();
    input.value = "";
    combo.typed = "";
    history.pushState(null, "", window.location.pathname);
    show(readState());
    input.focus();
  });

  // -- results and facets ----------------------------------------------------------

  let searchController = null;
  let shownSearch = ""; // the query string of the results on screen

  function searchParams(state) {
    const params = new URLSearchParams({ q: state.q, limit: String(PAGE_SIZE),
      offset: String(state.offset) });
    for (const name of Object.keys(FACET_NAMES)) {
      for (const value of state[name]) params.append(name, value);
    }
    if (state.terminated) params.set("include_terminated", "true");
    return params;
  }

  async function runSearch(state) {
    const params = searchParams(state);
    const key = params.toString();
    if (key === shownSearch) return;
    if (searchController) searchController.abort();
    const controller = new AbortController();
    searchController = controller;
    $("results").setAttribute("aria-busy", "true");
    try {
      const data = await api("/api/search", params, controller.signal);
      shownSearch = key;
      clearError();
      renderResults(data, state);
    } catch (error) {
      if (error.name === "AbortError") return;
      // Old results under a new query would mislead; show only the message.
      shownSearch = "";
      $("summary").textContent = "";
      $("hits").replaceChildren();
      $("pager").hidden = true;
      showError(error);
    } finally {
      // A newer search may still be running; only the latest one clears "busy".
      if (searchController === controller) $("results").setAttribute("aria-busy", "false");
    }
  }

  /** A link to a code's detail that keeps the rest of the page's state. */
  function codeLink(code, system, text) {
    const link = el("a", "code-link", text || code);
    const target = { ...current, code, codeSystem: system };
    link.href = stateQuery(target);
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      navigate({ code, codeSystem: system });
    });
    return link;
  }

  /** A link that runs a search for `text` (did-you-mean, examples). */
  function searchLink(text) {
    const link = el("a", "search-link", text);
    link.href = stateQuery({ ...readState(), q: text, offset: 0, code: "", codeSystem: "",
      system: [], category: [], specialty: [] });
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      input.value = text;
      combo.typed = text;
      navigate({ q: text, offset: 0, code: "", codeSystem: "" });
    });
    return link;
  }

  function renderResults(data, state) {
    const summary = $("summary");
    const total = data.total;
    const first = total ? state.offset + 1 : 0;
    const last = Math.min(state.offset + data.results.length, total);
    summary.replaceChildren();
    const count = el("strong", "", `${total.toLocaleString("en-US")} ` +
      (total === 1 ? "code" : "codes"));
    summary.append(count);
    if (data.query) summary.append(" for “", el("span", "summary-query", data.query), "”");
    const filters = state.system.length + state.category.length + state.specialty.length;
    if (filters) summary.append(` with ${filters} ${filters === 1 ? "filter" : "filters"}`);
    if (total) summary.append(el("span", "muted", ` — showing ${first}–${last}`));
    summary.append(el("span", "muted", ` (${Math.round(data.took_ms)} ms)`));

    const mean = $("did-you-mean");
    mean.replaceChildren();
    mean.hidden = !data.did_you_mean;
    if (data.did_you_mean) {
      if (data.corrected) {
        mean.append("Showing results for ", searchLink(data.did_you_mean),
          ` — no code has every word of “${data.query}”.`);
      } else {
        mean.append("Did you mean ", searchLink(data.did_you_mean), "?");
      }
    }

    const hits = $("hits");
    hits.replaceChildren();
    hits.start = first || 1;
    for (const hit of data.results) hits.append(renderHit(hit));
    if (!data.results.length) {
      hits.append(el("li", "no-hits",
        "No codes match. Check the spelling, use fewer words, or remove a filter."));
    }
    renderPager(state, total);
    renderFacets(data.facets, state);
  }

  function renderHit(hit) {
    const item = el("li", "hit");
    const head = el("div", "hit-head");
    head.append(codeLink(hit.code, hit.system));
    head.append(el("span", `badge system-${hit.system}`, systemLabel(hit.system)));
    if (!hit.billable) head.append(el("span", "badge badge-warn", "not billable (header)"));
    if (hit.terminated) head.append(el("span", "badge badge-warn",
      `terminated ${hit.terminated}`));
    item.append(head);

    const title = el("p", "hit-title");
    title.append(highlighted(hit.highlight && hit.highlight.title, hit.title));
    item.append(title);
    if (hit.short && hit.short !== hit.title) {
      const short = el("p", "hit-short");
      short.append(el("span", "label", "Short: "));
      short.append(highlighted(hit.highlight && hit.highlight.short, hit.short));
      item.append(short);
    }
    const meta = el("p", "hit-meta");
    if (hit.category) meta.append(el("span", "hit-category", hit.category.label));
    if (hit.specialties.length) {
      meta.append(el("span", "hit-specialties",
        hit.specialties.map((s) => s.label).join(", ")));
    }
    if (meta.childNodes.length) item.append(meta);
    return item;
  }

  function renderPager(state, total) {
    const pager = $("pager");
    const reachable = Math.min(total, MAX_OFFSET + PAGE_SIZE);
    const pages = Math.max(1, Math.ceil(reachable / PAGE_SIZE));
    const page = Math.floor(state.offset / PAGE_SIZE) + 1;
    pager.hidden = pages <= 1;
    $("page-info").textContent = `Page ${page} of ${pages}`;
    $("prev-page").disabled = page <= 1;
    $("next-page").disabled = page >= pages;
  }

  $("prev-page").addEventListener("click", () => {
    navigate({ offset: Math.max(0, current.offset - PAGE_SIZE), code: "", codeSystem: "" });
    $("results").scrollIntoView();
  });
  $("next-page").addEventListener("click", () => {
    navigate({ offset: Math.min(MAX_OFFSET, current.offset + PAGE_SIZE), code: "",
      codeSystem: "" });
    $("results").scrollIntoView();
  });

  const expandedFacets = new Set();

  function renderFacets(facets, state) {
    const container = $("facets");
    const focusedId = document.activeElement && document.activeElement.id;
    container.replaceChildren();
    for (const [name, title] of Object.entries(FACET_NAMES)) {
      const values = (facets[name] || []).slice();
      const selected = new Set(state[name]);
      // A selected value stays visible even when the query leaves it no codes.
      for (const value of selected) {
        if (!values.some((v) => v.value === value)) {
          values.push({ value, label: value, count: 0 });
        }
      }
      if (!values.length) continue;
      const fieldset = el("fieldset", "facet");
      fieldset.append(el("legend", "", title));
      const list = el("ul", "facet-values");
      const expanded = expandedFacets.has(name);
      values.forEach((value, index) => {
        const isSelected = selected.has(value.value);
        if (!expanded && index >= FACETS_SHOWN && !isSelected) return;
        const item = el("li", value.count ? "" : "facet-empty");
        const label = el("label", "facet-value");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = name;
        box.value = value.value;
        box.id = `facet-${name}-${value.value}`;
        box.checked = isSelected;
        box.addEventListener("change", () => toggleFacet(name, value.value, box.checked));
        label.append(box, el("span", "facet-label", valueLabel(value)),
          el("span", "facet-count", value.count.toLocaleString("en-US")));
        item.append(label);
        list.append(item);
      });
      fieldset.append(list);
      if (values.length > FACETS_SHOWN) {
        const more = el("button", "link-button",
          expanded ? "Show fewer" : `Show all ${values.length}`);
        more.type = "button";
        more.setAttribute("aria-expanded", String(expanded));
        more.addEventListener("click", () => {
          if (expandedFacets.has(name)) expandedFacets.delete(name);
          else expandedFacets.add(name);
          renderFacets(facets, current);
        });
        fieldset.append(more);
      }
      container.append(fieldset);
    }
    // Re-rendering replaces the checkboxes; keep keyboard focus where it was.
    if (focusedId && document.getElementById(focusedId) && focusedId.startsWith("facet-")) {
      document.getElementById(focusedId).focus();
    }
  }

  function toggleFacet(name, value, on) {
    const values = current[name].filter((v) => v !== value);
    if (on) values.push(value);
    navigate({ [name]: values, offset: 0, code: "", codeSystem: "" });
  }

  $("include-terminated").addEventListener("change", (event) => {
    navigate({ terminated: event.target.checked, offset: 0 });
  });

  // -- code detail -------------------------------------------------------------------

  let detailController = null;
  let shownDetail = "";

  function addRow(list, term, value) {
    if (value === null || value === undefined || value === "" ||
      (Array.isArray(value) && !value.length)) return;
    const row = el("div", "field");
    row.append(el("dt", "", term));
    const cell = el("dd");
    if (value instanceof Node) cell.append(value);
    else cell.textContent = String(value);
    row.append(cell);
    list.append(row);
  }

  function textList(items, className) {
    const list = el("ul", className || "plain-list");
    for (const item of items) list.append(el("li", "", item));
    return list;
  }

  function codeList(items) {
    const list = el("ul", "plain-list code-list");
    for (const item of items) {
      const li = el("li");
      li.append(codeLink(item.code, item.system), " ", el("span", "", item.title));
      list.append(li);
    }
    return list;
  }

  function rvuSection(detail) {
    const rvu = detail.rvu || {};
    const section = el("section", "rvu");
    section.append(el("h3", "", "Relative value units (Physician Fee Schedule)"));
    if (!Object.keys(rvu).length) {
      section.append(el("p", "muted", detail.system === "icd10cm"
        ? "Diagnosis codes have no RVUs."
        : "This code is not in the fee schedule's RVU file."));
      return section;
    }
    const work = Number.parseFloat(rvu.work_rvu);
    if (rvu.status) {
      const meaning = RVU_STATUS[rvu.status] || "status not described";
      section.append(el("p", "rvu-status", `Status ${rvu.status}: ${meaning}.`));
    }
    if (!Number.isFinite(work) || work === 0) {
      section.append(el("p", "rvu-none", "No work RVU assigned."));
    }
    const table = el("table", "rvu-table");
    const body = el("tbody");
    for (const [key, label] of RVU_FIELDS) {
      if (!(key in rvu)) continue;
      const row = el("tr");
      row.append(el("th", "", label), el("td", "", rvu[key]));
      body.append(row);
    }
    table.append(body);
    section.append(table);
    return section;
  }

  function renderDetail(detail) {
    $("detail-heading").textContent = `${detail.code} · ${systemLabel(detail.system)}`;
    const body = $("detail-body");
    body.replaceChildren();
    body.append(el("p", "detail-title", detail.title));

    const fields = el("dl", "fields");
    if (detail.short && detail.short !== detail.title) {
      addRow(fields, "Short descriptor", detail.short);
    }
    addRow(fields, "Billable", detail.billable ? "Yes" : "No — a header; pick a more specific code");
    addRow(fields, "Effective", detail.effective || "—");
    addRow(fields, "Terminated", detail.terminated || "No (still valid)");
    if (detail.parent) {
      const parent = el("span");
      parent.append(codeLink(detail.parent.code, detail.parent.system), " ",
        el("span", "", detail.parent.title));
      addRow(fields, "Parent", parent);
    }
    if (detail.children.length) {
      addRow(fields, `Children (${detail.children.length})`, codeList(detail.children));
    }
    addRow(fields, "Categories",
      detail.categories.length ? textList(detail.categories.map(valueLabel)) : null);
    addRow(fields, "Specialties",
      detail.specialties.length ? textList(detail.specialties.map((s) => s.label)) : null);
    addRow(fields, "Synonyms",
      detail.synonyms.length ? textList(detail.synonyms, "plain-list synonyms") : null);
    addRow(fields, "Notes", detail.context.length ? textList(detail.context) : null);

    const rvuKeys = new Set(["status", ...RVU_FIELDS.map(([key]) => key)]);
    const attributes = Object.entries(detail.attributes || {}).filter(([k]) => !rvuKeys.has(k));
    if (attributes.length) {
      const table = el("table", "attributes");
      const tbody = el("tbody");
      for (const [key, value] of attributes) {
        const row = el("tr");
        row.append(el("th", "", ATTRIBUTE_LABELS[key] || key.replaceAll("_", " ")),
          el("td", "", value));
        tbody.append(row);
      }
      table.append(tbody);
      addRow(fields, "Attributes", table);
    }
    body.append(fields);
    if (detail.system !== "icd10cm" || Object.keys(detail.rvu || {}).length) {
      body.append(rvuSection(detail));
    }
  }

  async function showDetail(state) {
    if (!state.code) {
      shownDetail = "";
      if (dialog.open) dialog.close();
      return;
    }
    const key = `${state.codeSystem}:${state.code}`;
    if (!dialog.open) dialog.showModal();
    if (key === shownDetail) return;
    if (detailController) detailController.abort();
    detailController = new AbortController();
    $("detail-heading").textContent = state.code;
    $("detail-body").replaceChildren(el("p", "muted", "Loading…"));
    const params = state.codeSystem ? new URLSearchParams({ system: state.codeSystem }) : null;
    try {
      const detail = await api(`/api/codes/${encodeURIComponent(state.code)}`, params,
        detailController.signal);
      shownDetail = key;
      renderDetail(detail);
      $("detail-body").scrollTop = 0;
    } catch (error) {
      if (error.name === "AbortError") return;
      shownDetail = "";
      $("detail-body").replaceChildren(el("p", "error-inline",
        error instanceof ApiError ? error.message : String(error)));
    }
  }

  // Closing the dialog (button, Escape, backdrop) removes the code from the URL.
  dialog.addEventListener("close", () => {
    if (current.code) navigate({ code: "", codeSystem: "" });
  });
  $("detail-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // a click on the backdrop
  });

  // -- the whole page from a state ------------------------------------------------------

  let firstShow = true;

  function show(state) {
    // The box follows the URL's query, but opening a code keeps what was typed.
    if (firstShow || state.q !== current.q) {
      input.value = state.q;
      combo.typed = state.q;
    }
    firstShow = false;
    current = state;
    const searching = hasSearch(state);
    $("intro").hidden = searching;
    $("results").hidden = !searching;
    $("filters").hidden = !searching;
    $("include-terminated").checked = state.terminated;
    document.title = state.q ? `${state.q} — medcodes` : "medcodes — search medical codes";
    if (searching) {
      runSearch(state);
    } else {
      shownSearch = "";
      clearError();
    }
    showDetail(state);
  }

  function renderIntro() {
    const examples = $("examples");
    EXAMPLES.forEach((text, index) => {
      if (index) examples.append(" · ");
      examples.append(searchLink(text));
    });
    api("/api/health").then((health) => {
      $("index-info").textContent =
        `${health.documents.toLocaleString("en-US")} codes indexed (build ${health.index}).`;
    }).catch(showError);
  }

  // Filters start open on wide screens and folded on phones.
  $("filters").open = window.matchMedia("(min-width: 760px)").matches;
  renderIntro();
  show(current);
})();
