# keepalived.conf block structure, over the statement tokens of src/config/tokens.ts.
#
# The preprocessor (src/config/reader.ts) has already applied include, @conditionals, $NAME and
# ~SEQ, and the tokenizer has split lines at braces and grouped each run of words into one
# `stmt` token (a keyword and its arguments). Fewer, larger tokens keep nearley's per-token cost
# low (see docs/design.md). A `stmt` followed by `{` opens a block whatever the line breaks:
#
#   vrrp_instance VI_1 {            vrrp_instance VI_1
#     track_script { chk }          {
#   }                                 track_script {
#                                       chk
#                                     } }

@preprocessor typescript

@{%
import { tokenStream, leaf, block, toList, type Cons } from './syntax.js';
// nearley types its lexer as reading strings; ours reads ready-made tokens.
const lexer: any = tokenStream;
%}

@lexer lexer

config -> items                              {% ([items]) => toList(items) %}

# Left recursion keeps nearley's chart small; the list is built as cons cells because an Earley
# parser may complete a prefix more than once, so the data must never be mutated in place.
items -> null                                {% () => null %}
       | items item                          {% ([tail, head]): Cons => ({ head, tail }) %}

item -> %stmt                                {% ([t]) => leaf(t) %}
      | %stmt %lbrace items %rbrace          {% ([t, _open, body, close]) => block(t, toList(body), close) %}
