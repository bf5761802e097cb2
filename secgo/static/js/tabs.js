// The tab bar scrolls sideways when its labels do not fit (a long language): fade the edge
// where more tabs are, so a cut-off label reads as "there is more", and keep the current tab
// in view. Without scripts the bar still scrolls, with a shadow at its edge (app.css).
export function initTabs() {
  const bar = document.querySelector('.tabs-wrap > .tabs');
  if (!bar) return;
  const mark = () => {
    const end = bar.scrollWidth - bar.clientWidth;
    bar.toggleAttribute('data-more-after', bar.scrollLeft < end - 2);
    bar.toggleAttribute('data-more-before', bar.scrollLeft > 2);
  };
  const current = bar.querySelector('[aria-current]');
  if (current && current.offsetLeft + current.offsetWidth > bar.clientWidth) {
    bar.scrollLeft = current.offsetLeft - 16;
  }
  bar.addEventListener('scroll', mark, { passive: true });
  window.addEventListener('resize', mark);
  mark();
}
