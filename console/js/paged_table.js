// A table that pages through a Describe* call with MaxResults/NextToken: only one page is ever
// fetched or drawn, so a thousand sessions cost what fifty do.
import { clear, h } from './dom.js';

export const PAGE_SIZES = [10, 50, 100, 500];

export class PagedTable {
  // load({MaxResults, NextToken}) -> {items, nextToken}; columns: [{label, render(item)}]
  constructor({ load, columns, pageSize = 50, empty = 'Nothing here yet.', id }) {
    this.load = load;
    this.columns = columns;
    this.pageSize = pageSize;
    this.emptyText = empty;
    this.tokens = [undefined];  // tokens[i] fetches page i
    this.page = 0;
    this.body = h('tbody');
    this.status = h('span', { class: 'page-status', 'aria-live': 'polite' });
    this.prev = h('button', { type: 'button', class: 'page-prev', onclick: () => this.go(-1) },
      '‹ Previous');
    this.next = h('button', { type: 'button', class: 'page-next', onclick: () => this.go(1) },
      'Next ›');
    const size = h('select', { class: 'page-size', 'aria-label': 'Rows per page',
                               onchange: (e) => { this.pageSize = Number(e.target.value);
                                                  this.reset(); } },
      PAGE_SIZES.map((n) => h('option', { value: n, selected: n === pageSize }, `${n} per page`)));
    this.element = h('div', { class: 'paged-table', id },
      h('table', {}, h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.label)))),
        this.body),
      h('div', { class: 'pager' }, this.prev, this.status, this.next, size));
  }

  reset() {
    this.tokens = [undefined];
    this.page = 0;
    return this.refresh();
  }

  go(delta) {
    this.page = Math.max(0, Math.min(this.tokens.length - 1, this.page + delta));
    return this.refresh();
  }

  async refresh() {
    this.prev.disabled = this.next.disabled = true;
    this.status.textContent = 'Loading…';
    try {
      const { items, nextToken } =
        await this.load({ MaxResults: this.pageSize, NextToken: this.tokens[this.page] });
      if (nextToken) this.tokens[this.page + 1] = nextToken;
      else this.tokens.length = this.page + 1;
      clear(this.body, items.length === 0
        ? h('tr', {}, h('td', { colspan: this.columns.length, class: 'empty' }, this.emptyText))
        : items.map((item) => h('tr', {}, this.columns.map((c) => h('td', {}, c.render(item))))));
      const first = this.page * this.pageSize + (items.length ? 1 : 0);
      this.status.textContent = `Page ${this.page + 1} · rows ${first}–` +
        `${this.page * this.pageSize + items.length}${nextToken ? ' · more' : ''}`;
      this.prev.disabled = this.page === 0;
      this.next.disabled = !nextToken;
      this.element.dataset.rows = String(items.length);
      this.element.dataset.page = String(this.page + 1);
    } catch (error) {
      clear(this.body, h('tr', {}, h('td', { colspan: this.columns.length, class: 'form-error' },
        `${error.code || 'Error'}: ${error.message}`)));
      this.status.textContent = '';
      this.prev.disabled = this.page === 0;
    }
  }
}
