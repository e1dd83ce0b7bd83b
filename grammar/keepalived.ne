# keepalived.conf block structure, over the tokens of src/config/tokens.ts.
#
# The preprocessor (src/config/reader.ts) has already applied include, @conditionals, $NAME and
# ~SEQ, and the tokenizer has split lines at braces and grouped words into statements (a keyword
# and its arguments). It hands the grammar three tokens:
#   open    a statement followed by `{`, whatever the line breaks:
#             vrrp_instance VI_1 {        vrrp_instance VI_1
#                                         {
#   close   the `}` that ends the innermost open block
#   leaves  a run of consecutive statements that open no block
#   flat    a whole block with no block inside it (`TCP_CHECK { connect_timeout 3 }`), closed
# nearley's cost is per token, so a run of plain statements, and an innermost block, travel as one
# token each; the tokenizer only matches a brace pair that has no other brace between them.

@preprocessor typescript

@{%
import { tokenStream, block, toList, type Cons } from './syntax.js';
// nearley types its lexer as reading strings; ours reads ready-made tokens.
const lexer: any = tokenStream;
%}

@lexer lexer

# The start symbol completes after every top-level token: its data must cost nothing there (a
# list built at each completion made a million top-level blocks quadratic). parse.ts flattens the
# one result once.
config -> items                              {% id %}

# Left recursion keeps nearley's chart small; the list is built as cons cells because an Earley
# parser may complete a prefix more than once, so the data must never be mutated in place.
items -> null                                {% () => null %}
       | items %leaves                       {% ([tail, t]): Cons => ({ head: t.statements, tail }) %}
       | items %flat                         {% ([tail, t]): Cons => ({ head: t.statement, tail }) %}
       | items %open items %close            {% ([tail, open, body, close]): Cons => ({ head: block(open.statement, toList(body), close), tail }) %}
