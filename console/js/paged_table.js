// A table that pages through a Describe* call with MaxResults/NextToken: only one page is ever
// fetched or drawn, so a thousand sessions cost what fifty do. Searching or sorting needs every
// item: the table then loads them all once (1,000 a call), and filters, sorts and pages them
// here until it is refreshed.
import { clear, h } from './dom.js';

export const PAGE_SIZES = [10, 50, 100, 500];

const textOf = (value) => (value instanceof Node ? value.textContent : String(value ?? ''));

function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true, sensitivity: 'base' });
}

export class PagedTable {
  // load({MaxResults, NextToken}) -> {items, nextToken}; columns: [{label, render(item),
  // sort (false: not sortable), optional (hidden on narrow screens)}]; noun: 'mirror
  // sessions'; create: {label, href} offered when there is nothing yet.
  constructor({ load, columns, pageSize = 50, empty = 'Nothing here yet.', id, noun = 'items',
                create = null }) {
    this.load = load;
    this.columns = columns;
    this.pageSize = pageSize;
    this.emptyText = empty;
    this.noun = noun;
    this.create = create;
    this.tokens = [undefined];  // tokens[i] fetches page i (server paging)
    this.page = 0;
    this.query = '';
    this.sort = null;  // {column, descending}
    this.all = null;   // every item, while searching or sorting
    this.body = h('tbody');
    this.status = h('span', { class: 'page-status', 'aria-live': 'polite' });
    this.prev = h('button', { type: 'button', class: 'page-prev', onclick: () => this.go(-1) },
      '‹ Previous');
    this.next = h('button', { type: 'button', class: 'page-next', onclick: () => this.go(1) },
      'Next ›');
    const size = h('select', { class: 'page-size', 'aria-label': 'Rows per page',
                               onchange: (e) => { this.pageSize = Number(e.target.value);
                                                  this.page = 0;
                                                  this.tokens = [undefined];
                                                  this.show(); } },
      PAGE_SIZES.map((n) => h('option', { value: n, selected: n === pageSize }, `${n} per page`)));
    let typing = null;
    this.search = h('input', { type: 'search', class: 'table-search', placeholder: `Find ${noun}`,
                               'aria-label': `Find ${noun}`, autocomplete: 'off',
                               oninput: () => {
                                 clearTimeout(typing);
                                 typing = setTimeout(() => this.find(this.search.value), 250);
                               } });
    this.headers = columns.map((c, i) => {
      const th = h('th', { class: c.optional ? 'optional' : null, scope: 'col' });
      if (c.sort === false) {
        th.append(c.label);
      } else {
        th.append(h('button', { type: 'button', class: 'sort', onclick: () => this.sortBy(i) },
          c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' })));
      }
      return th;
    });
    this.element = h('div', { class: 'paged-table', id },
      h('div', { class: 'table-tools' }, this.search),
      h('div', { class: 'table-scroll' },
        h('table', {}, h('thead', {}, h('tr', {}, this.headers)), this.body)),
      h('div', { class: 'pager' }, this.prev, this.status, this.next, size));
  }

  local() {
    return this.query !== '' || this.sort !== null;
  }

  find(text) {
    this.query = text.trim().toLowerCase();
    this.page = 0;
    return this.show();
  }

  sortBy(index) {
    const descending = this.sort?.column === index && !this.sort.descending;
    this.sort = { column: index, descending };
    this.headers.forEach((th, i) => {
      if (i === index) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    this.page = 0;
    return this.show();
  }

  go(delta) {
    this.page = Math.max(0, this.page + delta);
    return this.show();
  }

  // Loads again from the server (the Refresh button, after a change).
  refresh() {
    this.all = null;
    this.tokens = [undefined];
    this.page = 0;
    return this.show();
  }

  async loadAll() {
    const items = [];
    let token;
    do {
      const page = await this.load({ MaxResults: 1000, NextToken: token });
      items.push(...page.items);
      token = page.nextToken;
    } while (token);
    return items;
  }

  // One page of the filtered, sorted items: {items, more, total}.
  async localPage() {
    this.all ||= await this.loadAll();
    let items = this.all;
    if (this.query) {
      items = items.filter((item) => this.columns.some((c) =>
        textOf(c.render(item)).toLowerCase().includes(this.query)));
    }
    if (this.sort) {
      const c = this.columns[this.sort.column];
      const key = (item) => {
        const v = c.sortKey ? c.sortKey(item) : textOf(c.render(item));
        return v === '' || v === '-' ? '\uffff' : v;  // empty cells last
      };
      items = items.map((item) => [key(item), item]).sort((a, b) => compare(a[0], b[0]))
        .map(([, item]) => item);
      if (this.sort.descending) items.reverse();
    }
    const pages = Math.max(1, Math.ceil(items.length / this.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const from = this.page * this.pageSize;
    return { items: items.slice(from, from + this.pageSize), more: from + this.pageSize < items.length,
             total: items.length };
  }

  emptyRow() {
    const colspan = this.columns.length;
    if (this.query) {
      return h('tr', {}, h('td', { colspan, class: 'empty' },
        `No ${this.noun} match “${this.search.value.trim()}”. `,
        h('button', { type: 'button', class: 'clear-search', onclick: () => {
          this.search.value = '';
          this.find('');
        } }, 'Clear search')));
    }
    return h('tr', {}, h('td', { colspan, class: 'empty' }, h('p', {}, this.emptyText),
      this.create ? h('button', { type: 'button', class: 'primary create-empty',
                                  onclick: () => { location.hash = this.create.href; } },
      this.create.label) : null));
  }

  async show() {
    this.prev.disabled = this.next.disabled = true;
    this.status.textContent = 'Loading…';
    try {
      let items;
      let more;
      let total = null;
      if (this.local()) {
        ({ items, more, total } = await this.localPage());
      } else {
        this.page = Math.min(this.page, this.tokens.length - 1);
        const answer = await this.load({ MaxResults: this.pageSize, NextToken: this.tokens[this.page] });
        items = answer.items;
        more = Boolean(answer.nextToken);
        if (answer.nextToken) this.tokens[this.page + 1] = answer.nextToken;
        else this.tokens.length = this.page + 1;
      }
      clear(this.body, items.length === 0 ? this.emptyRow()
        : items.map((item) => h('tr', {}, this.columns.map((c) =>
          h('td', { class: c.optional ? 'optional' : null }, c.render(item))))));
      const first = this.page * this.pageSize + (items.length ? 1 : 0);
      this.status.textContent = `Page ${this.page + 1} · rows ${first}–` +
        `${this.page * this.pageSize + items.length}` +
        (total !== null ? ` of ${total}${this.query ? ' found' : ''}` : more ? ' · more' : '');
      this.prev.disabled = this.page === 0;
      this.next.disabled = !more;
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
