# keepalived.conf block structure, over the tokens of src/config/tokens.ts.
#
# The preprocessor (src/config/reader.ts) has already applied include, @conditionals, $NAME and
# ~SEQ, and the tokenizer has split lines at braces and grouped words into statements (a keyword
# and its arguments). It hands the grammar three tokens:
#   open    a top-level statement followed by `{` whose block holds blocks, whatever the line breaks:
#             vrrp_instance VI_1 {        vrrp_instance VI_1
#                                         {
#   close   the `}` that ends that block
#   leaves  a run of consecutive complete statements: plain ones, and blocks already closed (a
#           block nested in another, or a top-level block with no block inside)
# nearley's cost is per token (microseconds), about what keepalived spends on a whole line, so
# the grammar reads the top level's structure and the tokenizer hands it everything below built.

@preprocessor typescript

@{%
import { tokenStream, block, toList, type Cons } from './syntax.js';
// nearley types its lexer as reading strings; ours reads ready-made tokens.
const lexer: any = tokenStream;
%}

@lexer lexer

# The start symbol completes after every top-level token: its data must cost nothing there (a
# list built at each completion made a million top-level blocks quadratic). parse.ts feeds one
# token at a time and, whenever the top level is complete, hands the result on and starts a fresh
# parser: the top level is a list, and an Earley chart keeps every earlier state reachable.
config -> items                              {% id %}

# Left recursion keeps nearley's chart small; the list is built as cons cells because an Earley
# parser may complete a prefix more than once, so the data must never be mutated in place.
items -> null                                {% () => null %}
       | items %leaves                       {% ([tail, t]): Cons => ({ head: t.statements, tail }) %}
       | items %open items %close            {% ([tail, open, body, close]): Cons => ({ head: block(open.statement, toList(body), close), tail }) %}
