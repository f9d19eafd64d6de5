// The chart module on first use. It loads Observable Plot, d3 and linkedom: about 20 MB of an idle
// server's memory that only a chart request or a report run needs (docs/decisions.md → "Idle memory").
export const loadCharts = () => import('./charts.js');
