// A tiny element builder: h('button', {class: 'primary', onclick}, 'Create').

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value') {
      // Also the default, so that form.reset() comes back to it.
      if ('defaultValue' in element) element.defaultValue = value;
      element.value = value;
    } else if (name === 'checked') {
      element.defaultChecked = value;
      element.checked = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// AWS ids ("tms-0123…", "eni-…") never break at their hyphen.
const ID = /^[a-z]+(-[a-z]+)?-[0-9a-f]{8,17}$/;

export function idText(id) {
  return h('span', { class: 'id' }, id);
}

export function link(href, text) {
  return h('a', { href, class: ID.test(String(text)) ? 'id' : null }, text);
}

// The Name tag of a resource, or '-'.
export function nameOf(resource) {
  const tag = (resource.tagSet || []).find((t) => t.key === 'Name');
  return tag ? tag.value : '-';
}
