/**
 * The fix of a parse error. Handlebars reads `}}}` as the end of a triple-stash, so a value
 * written last in a JSON object (`{"name": {{json profile.firstName}}}`) or a CSS rule does not
 * parse, and its error names only a token, CLOSE_UNESCAPED; a Liquid filter's `|`, only
 * CLOSE_BLOCK_PARAMS, and a Braze attribute's `${`, INVALID.
 */
export function syntaxFix(error: string): string {
  if (/got 'CLOSE_UNESCAPED'/.test(error))
    return 'Handlebars reads "}}}" as the end of a {{{…}}}: write a space between the "}}" of a value and a "}" after it, {{json profile.firstName}} }.';
  // A '|' where no block params were opened: a Liquid filter, from a Customer.io or Braze template.
  if (/got 'CLOSE_BLOCK_PARAMS'/.test(error))
    return 'Liquid\'s filters ({{ name | default: "there" }}) are helpers in Handlebars, written before the value: {{default profile.firstName "there"}}, {{formatDate trigger.at "d MMMM yyyy"}}.';
  // Braze's attribute tags: {{${first_name}}}, {{custom_attribute.${vip}}}.
  if (/\$\{/.test(error) && /got 'INVALID'/.test(error))
    return 'Braze\'s attribute tags ({{${first_name}}}) are paths in Handlebars, under profile: {{default profile.firstName "there"}}.';
  return 'correct the Handlebars syntax where the message points.';
}
