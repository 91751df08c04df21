// A line chart of one series over dates, drawn by uPlot on a canvas. The
// canvas says nothing to a screen reader, so the figure carries a label and
// the screen shows the same numbers in a table beside it. uPlot styles its
// elements through the CSSOM (el.style), which the page's CSP allows; its
// stylesheet is linked from index.html.
import { html, useEffect, useRef } from './ui.js';
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { lang, fmtNumber } from './i18n.js';

const HEIGHT = 240;
const DAY = 86400;
// 1, 2 and 7 days, 2 and 4 weeks, about 3 and 6 months, a year.
const DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

function dayTicks(splits) {
  const f = new Intl.DateTimeFormat(lang(), { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return splits.map((s) => f.format(new Date(s * 1000)));
}

// dates: 'YYYY-MM-DD' strings (UTC days); values: numbers or null (a gap).
export function LineChart({ label, dates, values }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    const xs = dates.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
    const width = () => Math.max(240, el.clientWidth);
    const plot = new uPlot({
      width: width(),
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [{}, { label, stroke: '#1f5fbf', width: 2, fill: 'rgba(31, 95, 191, 0.12)', points: { show: xs.length < 40 } }],
      // Ticks in the page's language: day and month of UTC days, and numbers.
      // The x ticks step by whole days (a week's 7 points would otherwise
      // get a tick every 12 hours, each day's label twice).
      axes: [{ incrs: DAY_STEPS, values: (u, splits) => dayTicks(splits) },
        { size: 60, values: (u, splits) => splits.map(fmtNumber) }],
    }, [xs, values], el);
    const onResize = () => plot.setSize({ width: width(), height: HEIGHT });
    addEventListener('resize', onResize);
    return () => { removeEventListener('resize', onResize); plot.destroy(); };
  }, [label, dates.join(','), values.join(',')]);
  return html`<figure class="chart" role="img" aria-label=${label}><div ref=${box} class="chart-box"></div></figure>`;
}
