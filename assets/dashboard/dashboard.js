// The hub's dashboard: every figure comes from the public GraphQL API at /graphql.
'use strict';

const PLAN = '136/KH-UBND';

const TEXT = {
  vi: {
    title: 'Tiến độ Kế hoạch 136/KH-UBND',
    subtitle: 'Khoa học, công nghệ và đổi mới sáng tạo tỉnh Đồng Tháp đến năm 2025',
    graphiql: 'GraphiQL',
    switchTo: 'English',
    targets: 'Năm chỉ tiêu đến năm 2025',
    rule: 'Đúng tiến độ khi số đã đạt không thấp hơn đường thẳng nối từ 0 vào ngày ban hành kế hoạch '
      + 'đến chỉ tiêu vào ngày 31/12 của năm hạn (làm tròn xuống), tính đến hôm nay; '
      + 'sau thời hạn, khi đã đạt chỉ tiêu. Vạch màu cam là mức cần đạt hôm nay.',
    onTrack: 'đúng tiến độ',
    behind: 'chậm tiến độ',
    expected: 'mức cần đạt hôm nay',
    done: 'đã thực hiện',
    notDone: 'chưa thực hiện',
    contributing: 'Hồ sơ được tính cho chỉ tiêu',
    noRecords: 'Chưa có hồ sơ nào được tính.',
    tasks: 'Nhiệm vụ theo mục và trạng thái',
    section: 'Mục',
    overdue: 'Cơ quan chưa nộp báo cáo năm',
    overdueYear: (y) => `Cơ quan chưa nộp báo cáo năm ${y} (hạn 15/12/${y})`,
    noOverdue: 'Không có cơ quan nào chậm báo cáo.',
    ceased: 'Không còn phải báo cáo (đã chấm dứt hoạt động trước hạn)',
    ceasedOn: (d) => `chấm dứt từ ${d}`,
    successor: (n) => `chuyển giao cho ${n}`,
    report: 'Báo cáo kết quả thực hiện Kế hoạch',
    reportYear: 'Năm',
    reportAgency: 'Mã cơ quan (để trống: báo cáo tổng hợp)',
    reportToken: 'Mã truy cập (token)',
    reportDocx: 'Tải Word (DOCX)',
    reportPdf: 'Tải PDF',
    reportWorking: 'Đang soạn báo cáo…',
    reportDone: (name, size) => `Đã tải ${name} (${size} byte).`,
    reportFailed: 'Không tải được báo cáo: ',
    ocop: 'Sản phẩm OCOP theo huyện và số sao',
    stars: (n) => `${n} sao`,
    ip: 'Chỉ dẫn địa lý, nhãn hiệu theo loại và nơi bảo hộ',
    trace: 'Sự kiện truy xuất nguồn gốc theo tháng',
    events: 'sự kiện',
    connectors: 'Tình trạng kết nối dữ liệu',
    connector: 'Kết nối',
    lastRun: 'Lần chạy gần nhất',
    status: 'Trạng thái',
    nextRun: 'Lần chạy tới',
    paused: 'tạm dừng',
    disabled: 'chưa bật',
    never: 'chưa chạy',
    none: 'không có',
    unknown: 'chưa rõ',
    noData: 'Chưa có số liệu.',
    statusNames: { null: 'chưa báo cáo' },
    error: 'Không tải được số liệu: ',
    footer: 'Số liệu tính từ hồ sơ trong hệ thống qua API GraphQL công khai.',
  },
  en: {
    title: 'Progress of plan 136/KH-UBND',
    subtitle: "Đồng Tháp province's science, technology and innovation plan to 2025",
    graphiql: 'GraphiQL',
    switchTo: 'Tiếng Việt',
    targets: 'Five targets for 2025',
    rule: null,
    onTrack: 'on track',
    behind: 'behind',
    expected: 'expected today',
    done: 'done',
    notDone: 'not done',
    contributing: 'Records counted towards',
    noRecords: 'No record counts yet.',
    tasks: 'Tasks by section and status',
    section: 'Section',
    overdue: 'Agencies with an overdue annual report',
    overdueYear: (y) => `Agencies without a ${y} annual report (due 15 December ${y})`,
    noOverdue: 'No agency is late.',
    ceased: 'No longer owing (ceased before the deadline)',
    ceasedOn: (d) => `last day ${d}`,
    successor: (n) => `succeeded by ${n}`,
    report: "The plan's yearly report",
    reportYear: 'Year',
    reportAgency: 'Agency code (empty: the consolidated report)',
    reportToken: 'Access token',
    reportDocx: 'Download Word (DOCX)',
    reportPdf: 'Download PDF',
    reportWorking: 'Drafting the report…',
    reportDone: (name, size) => `Downloaded ${name} (${size} bytes).`,
    reportFailed: 'Could not download the report: ',
    ocop: 'OCOP products by district and stars',
    stars: (n) => `${n} stars`,
    ip: 'Geographical indications and marks by kind and jurisdiction',
    trace: 'Traceability events per month',
    events: 'events',
    connectors: 'Connector health',
    connector: 'Connector',
    lastRun: 'Last run',
    status: 'Status',
    nextRun: 'Next run',
    paused: 'paused',
    disabled: 'disabled',
    never: 'never run',
    none: 'none',
    unknown: 'unknown',
    noData: 'No data yet.',
    statusNames: { null: 'not reported' },
    error: 'Could not load the figures: ',
    footer: "Figures are computed from the hub's records through its public GraphQL API.",
  },
};

const PALETTE = ['#2f6fb3', '#e39b1b', '#1f7a4d', '#8e44ad', '#b3261e', '#16a2b8', '#6c757d'];

let lang = localStorage.getItem('khcn-hub-lang') === 'en' ? 'en' : 'vi';
let data = null;

const t = (key, ...args) => {
  const value = TEXT[lang][key];
  return typeof value === 'function' ? value(...args) : value;
};

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};

async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

// The last year whose report deadline (15 December) has passed.
function reportYear(today = new Date()) {
  const year = today.getFullYear();
  const deadline = new Date(year, 11, 15, 23, 59, 59);
  return today > deadline ? year : year - 1;
}

const QUERY = `query Dashboard($plan: String!, $year: Int!) {
  plan(code: $plan) {
    targets {
      key kind description descriptionEn targetValue unit unitEn dueYear
      actualValue progress onTrack expectedValue onTrackRule
      byYear { year value planned onTrack }
    }
  }
  tasks: tasksAggregate(groupBy: [SECTION, STATUS]) { keys { value label } count }
  overdue: overdueReports(year: $year, plan: $plan) { code name nameEn }
  ceased: reportingObligations(year: $year, status: [CEASED]) {
    ceasedOn agency { code name nameEn } successor { name nameEn }
  }
  ocop: ocopProductsAggregate(groupBy: [DISTRICT, STARS]) { keys { value label } count }
  ip: ipRightsAggregate(groupBy: [KIND, JURISDICTION]) { keys { value label } count }
  trace: traceabilityEntriesAggregate(groupBy: [EVENT_TIME_MONTH]) { keys { value } count }
  connectors {
    name enabled disabledReason paused pausedReason nextRunAt
    lastRun { status startedAt finishedAt error }
  }
}`;

function formatDate(value) {
  if (!value) return '';
  return new Date(value).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', {
    timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short',
  });
}

function renderTargets() {
  const box = document.getElementById('targets');
  box.replaceChildren();
  const rule = data.plan.targets[0] && data.plan.targets[0].onTrackRule;
  // The API states the rule in English; the Vietnamese page says the same in Vietnamese.
  document.getElementById('on-track-rule').textContent = t('rule') || rule || '';
  for (const target of data.plan.targets) {
    const goal = target.kind === 'COMPLETION' ? 1 : target.targetValue || 0;
    // A completion target's own rule says how far it is (TECHNOLOGY_ASSESSMENT: key
    // industries covered), so its share is the API's progress.
    const share = target.kind === 'COMPLETION' ? Math.min(1, target.progress)
      : goal > 0 ? Math.min(1, target.actualValue / goal) : 0;
    const expected = goal > 0 ? Math.min(1, target.expectedValue / goal) : 0;
    const description = lang === 'en' && target.descriptionEn ? target.descriptionEn : target.description;
    const unit = lang === 'en' ? target.unitEn || target.unit || '' : target.unit || '';
    const figure = target.kind === 'COMPLETION'
      ? (target.progress >= 1 ? t('done') : t('notDone'))
      : `${target.actualValue} / ${goal} ${unit}`;
    const track = el('div', { class: 'track', title: `${t('expected')}: ${target.expectedValue.toFixed(1)}` },
      el('div', { class: 'fill' }), el('div', { class: 'expected' }));
    track.children[0].style.width = `${(share * 100).toFixed(1)}%`;
    track.children[1].style.left = `${(expected * 100).toFixed(1)}%`;
    const row = el('div', {
      class: 'target', tabIndex: 0, role: 'button',
      'data-key': target.key, 'data-actual': target.actualValue, 'data-goal': goal,
      'data-on-track': target.onTrack,
    },
    el('div', { class: 'label' }, description),
    track,
    el('div', { class: 'figure' }, el('span', { class: 'actual' }, figure),
      el('span', { class: `chip ${target.onTrack ? 'ok' : 'behind'}` }, target.onTrack ? t('onTrack') : t('behind'))));
    row.addEventListener('click', () => showContributing(target, description));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') showContributing(target, description); });
    box.append(row);
  }
}

function recordTitle(record) {
  return record.name || record.title || record.enterpriseName || record.eventId || record.id;
}

async function showContributing(target, description) {
  const panel = document.getElementById('contributing');
  const list = document.getElementById('contributing-list');
  document.getElementById('contributing-title').textContent = `${t('contributing')}: ${description}`;
  list.replaceChildren();
  panel.hidden = false;
  const result = await gql(`query Counted($plan: String!, $key: TargetKey!) {
    plan(code: $plan) { target(key: $key) { contributingRecords(first: 200) {
      __typename
      ... on IpRight { id name jurisdiction }
      ... on ScienceTask { id title }
      ... on ApplicationModel { id title }
      ... on Startup { id name }
      ... on TechnologyAssessment { id enterpriseName }
      ... on OcopProduct { id name }
      ... on TraceabilityEntry { id eventId }
      ... on AnnualReport { id }
    } } }
  }`, { plan: PLAN, key: target.key });
  const records = result.plan.target ? result.plan.target.contributingRecords : [];
  if (!records.length) list.append(el('li', { class: 'empty' }, t('noRecords')));
  for (const record of records) {
    list.append(el('li', { 'data-id': record.id }, recordTitle(record)));
  }
  panel.scrollIntoView({ block: 'nearest' });
}

// A bar chart of categories × series (stacked), drawn as SVG.
function barChart(container, categories, series, { horizontal = false } = {}) {
  container.replaceChildren();
  if (!categories.length) {
    container.append(el('p', { class: 'empty' }, t('noData')));
    return;
  }
  const totals = categories.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const max = Math.max(1, ...totals);
  const rowHeight = 22;
  const labelWidth = horizontal ? 170 : 0;
  const width = 640;
  const height = horizontal ? categories.length * rowHeight + 20 : 240;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  if (horizontal) {
    const plotWidth = width - labelWidth - 50;
    categories.forEach((category, i) => {
      const y = i * rowHeight + 4;
      chart.append(svg('text', { x: labelWidth - 6, y: y + 14, 'text-anchor': 'end' }, category));
      let x = labelWidth;
      series.forEach((s, j) => {
        const w = ((s.values[i] || 0) / max) * plotWidth;
        if (w > 0) {
          const rect = svg('rect', { x, y, width: w, height: rowHeight - 6, fill: PALETTE[j % PALETTE.length] });
          rect.append(svg('title', {}, `${category} · ${s.name}: ${s.values[i]}`));
          chart.append(rect);
        }
        x += w;
      });
      chart.append(svg('text', { x: x + 4, y: y + 14 }, totals[i]));
    });
  } else {
    const plotHeight = height - 50;
    const barWidth = Math.max(8, (width - 40) / categories.length - 8);
    categories.forEach((category, i) => {
      const x = 30 + i * ((width - 40) / categories.length);
      let y = plotHeight + 10;
      series.forEach((s, j) => {
        const h = ((s.values[i] || 0) / max) * plotHeight;
        if (h > 0) {
          y -= h;
          const rect = svg('rect', { x, y, width: barWidth, height: h, fill: PALETTE[j % PALETTE.length] });
          rect.append(svg('title', {}, `${category} · ${s.name}: ${s.values[i]}`));
          chart.append(rect);
        }
      });
      chart.append(svg('text', { x: x + barWidth / 2, y: y - 3, 'text-anchor': 'middle' }, totals[i]));
      chart.append(svg('text', { x: x + barWidth / 2, y: plotHeight + 26, 'text-anchor': 'middle' }, category));
    });
    chart.append(svg('line', { class: 'axis', x1: 25, x2: width, y1: plotHeight + 10, y2: plotHeight + 10 }));
  }
  container.append(chart);
  if (series.length > 1 || series[0].name) {
    const legend = el('div', { class: 'legend' });
    series.forEach((s, j) => {
      const swatch = el('i');
      swatch.style.background = PALETTE[j % PALETTE.length];
      legend.append(el('span', {}, swatch, s.name));
    });
    container.append(legend);
  }
}

// A line chart of one series over ordered categories.
function lineChart(container, categories, values, name) {
  container.replaceChildren();
  if (!categories.length) {
    container.append(el('p', { class: 'empty' }, t('noData')));
    return;
  }
  const width = 640;
  const height = 220;
  const plotHeight = height - 50;
  const max = Math.max(1, ...values);
  const step = categories.length > 1 ? (width - 60) / (categories.length - 1) : 0;
  const point = (i) => [40 + i * step, 10 + plotHeight - (values[i] / max) * plotHeight];
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  chart.append(svg('line', { class: 'axis', x1: 35, x2: width, y1: plotHeight + 10, y2: plotHeight + 10 }));
  chart.append(svg('text', { x: 2, y: 14 }, max));
  chart.append(svg('polyline', {
    points: values.map((_, i) => point(i).join(',')).join(' '),
    fill: 'none', stroke: PALETTE[0], 'stroke-width': 2,
  }));
  const every = Math.max(1, Math.ceil(categories.length / 12));
  categories.forEach((category, i) => {
    const [x, y] = point(i);
    const dot = svg('circle', { cx: x, cy: y, r: 3, fill: PALETTE[0] });
    dot.append(svg('title', {}, `${category}: ${values[i]} ${name}`));
    chart.append(dot);
    if (i % every === 0) {
      chart.append(svg('text', { x, y: plotHeight + 26, 'text-anchor': 'middle' }, category));
    }
  });
  container.append(chart);
}

// Rows of a two-dimension aggregate as categories (first key) × series (second key).
function pivot(rows, categoryLabel, seriesLabel) {
  const categories = [];
  const seriesNames = [];
  for (const row of rows) {
    const c = categoryLabel(row.keys[0]);
    const s = seriesLabel(row.keys[1]);
    if (!categories.includes(c)) categories.push(c);
    if (!seriesNames.includes(s)) seriesNames.push(s);
  }
  const series = seriesNames.map((name) => ({ name, values: categories.map(() => 0) }));
  for (const row of rows) {
    const i = categories.indexOf(categoryLabel(row.keys[0]));
    const j = seriesNames.indexOf(seriesLabel(row.keys[1]));
    series[j].values[i] += row.count;
  }
  return { categories, series };
}

const orUnknown = (text) => (text === null || text === undefined ? t('unknown') : text);

function renderCharts() {
  const tasks = pivot(data.tasks, (k) => `${t('section')} ${orUnknown(k.value)}`,
    (k) => (k.value === null ? TEXT[lang].statusNames.null : k.value));
  barChart(document.getElementById('tasks-chart'), tasks.categories, tasks.series);

  const ocop = pivot(data.ocop, (k) => orUnknown(k.label || k.value), (k) => t('stars', k.value));
  barChart(document.getElementById('ocop-chart'), ocop.categories, ocop.series, { horizontal: true });

  const ip = pivot(data.ip, (k) => orUnknown(k.value), (k) => orUnknown(k.value));
  barChart(document.getElementById('ip-chart'), ip.categories, ip.series, { horizontal: true });

  const months = data.trace.filter((r) => r.keys[0].value !== null);
  lineChart(document.getElementById('trace-chart'), months.map((r) => r.keys[0].value),
    months.map((r) => r.count), t('events'));
}

function renderOverdue(year) {
  document.getElementById('overdue-title').textContent = t('overdueYear', year);
  const list = document.getElementById('overdue');
  list.replaceChildren();
  if (!data.overdue.length) list.append(el('li', { class: 'empty' }, t('noOverdue')));
  list.dataset.year = String(year);
  for (const agency of data.overdue) {
    list.append(el('li', { 'data-code': agency.code }, localName(agency)));
  }
  const ceased = document.getElementById('ceased');
  ceased.replaceChildren();
  document.getElementById('ceased-title').hidden = !data.ceased.length;
  for (const body of data.ceased) {
    const notes = [t('ceasedOn', formatDay(body.ceasedOn))];
    if (body.successor) notes.push(t('successor', localName(body.successor)));
    ceased.append(el('li', { 'data-code': body.agency.code },
      `${localName(body.agency)} (${notes.join('; ')})`));
  }
}

function localName(agency) {
  return lang === 'en' && agency.nameEn ? agency.nameEn : agency.name;
}

// A calendar date (YYYY-MM-DD) as people write it: 30/06/2025 or 30 Jun 2025.
function formatDay(value) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(lang === 'vi' ? 'vi-VN' : 'en-GB',
    { timeZone: 'UTC', dateStyle: 'medium' });
}

function renderConnectors() {
  const body = document.querySelector('#connectors tbody');
  body.replaceChildren();
  for (const c of data.connectors) {
    let status;
    if (c.paused) status = `${t('paused')}${c.pausedReason ? ` — ${c.pausedReason}` : ''}`;
    else if (!c.enabled) status = t('disabled');
    else status = c.lastRun ? c.lastRun.status : t('never');
    const last = c.lastRun ? formatDate(c.lastRun.finishedAt || c.lastRun.startedAt) : t('never');
    body.append(el('tr', { class: c.paused ? 'paused' : '', 'data-name': c.name },
      el('td', {}, c.name), el('td', {}, last), el('td', {}, status),
      el('td', {}, c.enabled && !c.paused ? formatDate(c.nextRunAt) : '—')));
  }
  if (!data.connectors.length) {
    body.append(el('tr', {}, el('td', { colSpan: 4, class: 'empty' }, t('none'))));
  }
}

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-i18n]')) {
    const value = TEXT[lang][node.dataset.i18n];
    if (typeof value === 'string') node.textContent = value;
  }
  document.getElementById('lang').textContent = t('switchTo');
  document.title = `KHCN Đồng Tháp — ${t('title')}`;
}

function render(year) {
  applyLanguage();
  renderTargets();
  renderCharts();
  renderOverdue(year);
  renderConnectors();
}

// The report endpoints need a token, which a plain link cannot send: fetch the file
// with it and hand the browser the bytes.
async function downloadReport(event) {
  event.preventDefault();
  const format = event.submitter ? event.submitter.value : 'docx';
  const year = document.getElementById('report-year').value;
  const agency = document.getElementById('report-agency').value.trim() || 'plan';
  const token = document.getElementById('report-token').value.trim();
  const status = document.getElementById('report-status');
  status.dataset.state = 'working';
  status.textContent = t('reportWorking');
  try {
    const response = await fetch(`/reports/${encodeURIComponent(year)}/${encodeURIComponent(agency)}.${format}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error((body.errors && body.errors[0] && body.errors[0].message) || response.statusText);
    }
    const blob = await response.blob();
    const name = `bao-cao-${year}-${agency}.${format}`;
    const link = el('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    status.dataset.state = 'done';
    status.textContent = t('reportDone', name, blob.size);
  } catch (error) {
    status.dataset.state = 'error';
    status.textContent = t('reportFailed') + error.message;
  }
}

async function main() {
  const year = reportYear();
  document.getElementById('report-year').value = year;
  document.getElementById('report-form').addEventListener('submit', downloadReport);
  document.getElementById('lang').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('khcn-hub-lang', lang);
    // The open list of records was titled in the other language.
    document.getElementById('contributing').hidden = true;
    if (data) render(year);
    else applyLanguage();
  });
  applyLanguage();
  try {
    data = await gql(QUERY, { plan: PLAN, year });
    render(year);
    document.body.dataset.state = 'ready';
  } catch (error) {
    const box = document.getElementById('error');
    box.textContent = t('error') + error.message;
    box.hidden = false;
    document.body.dataset.state = 'error';
  }
}

main();
