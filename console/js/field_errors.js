// Which form field an API error is about. The server names the parameter in most messages
// ("Value (40000) for parameter SessionNumber is invalid…"); the rest are known by code.

const BY_CODE = {
  'InvalidNetworkInterfaceID.NotFound': 'NetworkInterfaceId',
  'InvalidNetworkInterface.InUse': 'NetworkInterfaceId',
  'TrafficMirrorSessionsPerInterfaceLimitExceeded': 'NetworkInterfaceId',
  'InvalidTrafficMirrorTargetId.NotFound': 'TrafficMirrorTargetId',
  'TrafficMirrorSourcesPerTargetLimitExceeded': 'TrafficMirrorTargetId',
  'InvalidTrafficMirrorFilterId.NotFound': 'TrafficMirrorFilterId',
  'TrafficMirrorFilterRuleAlreadyExists': 'RuleNumber',
  'TagLimitExceeded': 'Tags',
};

const BY_MESSAGE = [
  [/^Session number \d+ is already used/, 'SessionNumber'],
  [/tag (key|value)|TagSpecification|\bTag\./i, 'Tags'],
  [/^Port ranges are only allowed with Protocol/, 'Protocol'],
];

// fields: the wire parameter names the form has (e.g. 'DestinationPortRange.FromPort').
// Answers one of them, or null when the error is about the request as a whole.
export function fieldForError(error, fields) {
  if (error.field && fields.includes(error.field)) return error.field;
  const message = error.message || '';
  const known = (name) => {
    if (!name) return null;
    if (fields.includes(name)) return name;
    // A field given by prefix ('DestinationPortRange' for 'DestinationPortRange.FromPort') or a
    // parameter inside a field ('TagSpecification.1.Tag.2.Key' for 'Tags').
    return fields.find((f) => name.startsWith(f + '.') || f.startsWith(name + '.')) || null;
  };
  const named = /\bparameter ([A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])/.exec(message);
  let field = known(named?.[1]);
  if (field) return field;
  // "DestinationPortRange: FromPort 9 is greater than ToPort 1."
  const leading = /^([A-Za-z][A-Za-z0-9.]*):/.exec(message);
  if ((field = known(leading?.[1]))) return field;
  for (const [pattern, name] of BY_MESSAGE) {
    if (pattern.test(message) && (field = known(name))) return field;
  }
  if ((field = known(BY_CODE[error.code]))) return field;
  // Otherwise the field the message names first ("SourceCidrBlock and DestinationCidrBlock …").
  let first = null;
  for (const f of fields) {
    const at = message.search(new RegExp(`\\b${f.replace(/\./g, '\\.')}\\b`));
    if (at >= 0 && (!first || at < first.at || (at === first.at && f.length > first.f.length))) {
      first = { at, f };
    }
  }
  return first ? first.f : null;
}
