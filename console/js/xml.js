// EC2 XML replies into plain objects: <xSet><item>…</item></xSet> becomes an array, an element
// with children an object keyed by local name, a leaf its text.

export function toObject(element) {
  const children = Array.from(element.children);
  if (element.localName.endsWith('Set')) return children.map(toObject);
  if (children.length === 0) return element.textContent;
  const out = {};
  for (const child of children) out[child.localName] = toObject(child);
  return out;
}

export function parseXml(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) {
    throw new Error('The server answered with XML that does not parse.');
  }
  return doc;
}

// The AWS error envelope: <Response><Errors><Error><Code/><Message/></Error></Errors>…
export function errorOf(doc) {
  const error = doc.getElementsByTagName('Error')[0];
  if (!error) return null;
  const text = (name) => error.getElementsByTagName(name)[0]?.textContent ?? '';
  return { code: text('Code'), message: text('Message') };
}

// Tags as a {key: value} map from a tagSet array.
export function tagMap(tagSet) {
  const tags = {};
  for (const tag of tagSet || []) tags[tag.key] = tag.value;
  return tags;
}
