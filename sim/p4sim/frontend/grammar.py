"""The P4_16 grammar subset p4sim parses, in lark's EBNF (LALR(1)).

Written from the P4_16 language specification's grammar appendix, restructured for LALR:

* operator precedence follows the spec (and p4c): `?:` < `||` < `&&` < `== !=` <
  `< > <= >=` < `|` < `^` < `&` < `<< >>` < `++ + - |+| |-|` < `* / %` < prefix < postfix;
* `>>` is not a token: a `>` immediately followed by `>` is lexed as R_ANGLE_SHIFT, so that
  `bit<bit<8>>`-style type arguments close properly and shift-right is `R_ANGLE_SHIFT ">"`;
* TYPE_IDENTIFIER (an identifier naming a type in scope) and TA_OPEN (a `<` that opens the
  type arguments of a generic call, e.g. `digest<T>(...)`) are produced by the post-lexer in
  `p4sim.frontend.parser`, as the spec requires of the lexer.

The grammar covers the P4_16 language as p4c 1.2.5 parses it, constructs outside p4sim's
subset included (header unions, value sets, for-in loops, mutable entries with priorities,
...), so that the resolver refuses them by name instead of with a syntax error.
"""

GRAMMAR = r"""
start: _top*

_top: header_decl | struct_decl | header_union_decl | enum_decl | ser_enum_decl
    | typedef_decl | newtype_decl | error_decl | match_kind_decl | const_decl
    | extern_object_decl | extern_function_decl | action_decl | parser_type_decl
    | parser_decl | control_type_decl | control_decl | package_decl | instantiation
    | function_decl | extern_forward_decl | empty_decl

empty_decl: ";"

annots: ANNOTATION*

name: IDENTIFIER | TYPE_IDENTIFIER | _soft_keyword
member_name: IDENTIFIER | TYPE_IDENTIFIER | _soft_keyword
_soft_keyword: APPLY | KEY | ACTIONS | STATE | ENTRIES | TYPE

// ------------------------------------------------------------------ types
type_ref: base_type
        | type_name                                   -> named_type
        | type_name "<" type_args _r_angle            -> specialized_type
        | type_name "[" expression "]"                -> stack_type
        | "tuple" "<" type_args _r_angle              -> tuple_type

base_type: BOOL                                       -> bool_type
         | ERROR                                      -> error_type
         | STRING                                     -> string_type
         | INT                                        -> int_type
         | BIT                                        -> bit1_type
         | BIT "<" INTEGER _r_angle                    -> bit_type
         | INT "<" INTEGER _r_angle                    -> signed_type
         | VARBIT "<" INTEGER _r_angle                 -> varbit_type
         | VARBIT "<" "(" expression ")" _r_angle      -> varbit_expr_type
         | BIT "<" "(" expression ")" _r_angle         -> bit_expr_type
         | INT "<" "(" expression ")" _r_angle         -> signed_expr_type
         | BIT "<" width_name _r_angle                  -> bit_expr_type
         | INT "<" width_name _r_angle                  -> signed_expr_type
         | VARBIT "<" width_name _r_angle               -> varbit_expr_type
width_name: IDENTIFIER -> ident

type_name: TYPE_IDENTIFIER
_r_angle: ">" | R_ANGLE_SHIFT

type_args: type_arg ("," type_arg)*
?type_arg: type_ref | VOID -> void_type | DONTCARE -> dontcare_type

type_params: ("<" | TA_OPEN) name ("," name)* _r_angle

type_or_void: type_ref | VOID -> void_type

// ------------------------------------------------------------ declarations
header_decl: annots "header" name type_params? "{" field_decl* "}"
struct_decl: annots "struct" name type_params? "{" field_decl* "}"
header_union_decl: annots "header_union" name type_params? "{" field_decl* "}"
field_decl: annots type_ref name ";"

enum_decl: annots "enum" name "{" name_list "}"
ser_enum_decl: annots "enum" base_type name "{" ser_member ("," ser_member)* ","? "}"
ser_member: name "=" expression
name_list: name ("," name)* ","?

typedef_decl: annots "typedef" (type_ref | _derived_decl) name ";"
newtype_decl: annots TYPE (type_ref | _derived_decl) name ";"
_derived_decl: header_decl | struct_decl | header_union_decl | enum_decl | ser_enum_decl
error_decl: "error" "{" name_list "}"
match_kind_decl: "match_kind" "{" name_list "}"
const_decl: annots "const" type_ref name "=" expression ";"

extern_object_decl: annots "extern" TYPE_IDENTIFIER type_params? "{" method_decl* "}"
extern_function_decl: annots "extern" type_or_void name type_params? "(" params ")" ";"
extern_forward_decl: annots "extern" name ";"
method_decl: annots type_or_void name type_params? "(" params ")" ";"    -> method_proto
           | annots TYPE_IDENTIFIER "(" params ")" ";"                  -> ctor_proto
           | annots "abstract" type_or_void name type_params? "(" params ")" ";" -> abstract_proto

function_decl: annots type_or_void name type_params? "(" params ")" block

params: (param ("," param)*)?
param: annots direction? type_ref name ("=" expression)?
direction: IN | OUT | INOUT
IN: "in"
OUT: "out"
INOUT: "inout"

parser_type_decl: annots "parser" name type_params? "(" params ")" ";"
parser_decl: annots "parser" name type_params? "(" params ")" ctor_params? "{" _parser_local* parser_state* "}"
ctor_params: "(" params ")"
_parser_local: const_decl | var_decl | instantiation | value_set_decl
value_set_decl: annots "value_set" "<" type_args _r_angle "(" expression ")" name ";"

parser_state: annots STATE name "{" _stmt* transition? "}"
transition: "transition" name ";"                                      -> direct_transition
          | "transition" "select" "(" expression_list ")" "{" select_case* "}" -> select_transition
select_case: keyset ":" name ";"
?keyset: simple_keyset
       | "(" simple_keyset "," simple_keyset ("," simple_keyset)* ")"  -> tuple_keyset
       | "(" ks_default ")"
?simple_keyset: expression
              | expression "&&&" expression                          -> mask_keyset
              | expression ".." expression                           -> range_keyset
              | ks_default
              | DOTS -> ks_dots
ks_default: "default" | DONTCARE

control_type_decl: annots "control" name type_params? "(" params ")" ";"
control_decl: annots "control" name type_params? "(" params ")" ctor_params? "{" _control_local* APPLY block "}"
_control_local: const_decl | var_decl | instantiation | action_decl | table_decl

package_decl: annots "package" name type_params? "(" params ")" ";"

instantiation: annots type_ref "(" arguments ")" name ";"

action_decl: annots "action" name "(" params ")" block

table_decl: annots "table" name "{" table_prop* "}"
table_prop: KEY "=" "{" key_element* "}"                        -> key_prop
          | ACTIONS "=" "{" action_ref* "}"                     -> actions_prop
          | annots CONST? ENTRIES "=" "{" entry* "}"            -> entries_prop
          | annots CONST? IDENTIFIER "=" expression ";"           -> custom_prop
CONST: "const"
key_element: expression ":" name annots ";"
action_ref: annots prefixed_name ";"
          | annots prefixed_name "(" arguments ")" ";"
prefixed_name: IDENTIFIER | "." IDENTIFIER
entry: annots CONST? entry_priority? keyset ":" entry_action annots ";"
entry_priority: IDENTIFIER "=" expression ":"
entry_action: prefixed_name "(" arguments ")"
            | prefixed_name

// --------------------------------------------------------------- statements
// a block's annotations are its first child (`annots`, usually empty): sharing the
// nonterminal with var_decl keeps the grammar LALR(1)
block: annots "{" _stmt* "}"
_stmt: assignment | call_stmt | if_stmt | switch_stmt | block | exit_stmt
     | return_stmt | var_decl | const_decl | empty_stmt | for_stmt | break_stmt
     | continue_stmt | direct_apply | local_instantiation
empty_stmt: ";"
direct_apply: annots type_name "." APPLY "(" arguments ")" ";"
local_instantiation: annots type_ref "(" arguments ")" name ";"
for_stmt: "for" "(" for_init ";" expression? ";" for_update ")" _stmt
        | "for" "(" annots type_ref name IN for_collection ")" _stmt -> for_in_stmt
for_init: (for_init_item ("," for_init_item)*)?
?for_init_item: annots type_ref name "=" expression -> for_var
              | for_update_item
for_update: (for_update_item ("," for_update_item)*)?
?for_update_item: lvalue "=" expression -> for_assign
                | lvalue "(" arguments ")" -> for_call
?for_collection: expression | expression ".." expression -> for_range
break_stmt: "break" ";"
continue_stmt: "continue" ";"
assignment: lvalue "=" expression ";"
call_stmt: lvalue "(" arguments ")" ";"
         | lvalue TA_OPEN type_args _r_angle "(" arguments ")" ";"
?lvalue: IDENTIFIER -> ident
       | "." IDENTIFIER -> global_ident
       | lvalue "." member_name -> member
       | lvalue "[" expression "]" -> index
       | lvalue "[" expression ":" expression "]" -> slice
if_stmt: "if" "(" expression ")" _stmt ("else" _stmt)?
switch_stmt: "switch" "(" expression ")" "{" switch_case* "}"
switch_case: switch_label ":" case_block
           | switch_label ":"
case_block: "{" _stmt* "}"
switch_label: "default" -> default_label
            | expression
exit_stmt: "exit" ";"
return_stmt: "return" expression? ";"
var_decl: annots type_ref name ("=" expression)? ";"

arguments: (argument ("," argument)*)?
argument: expression
        | name "=" expression   -> named_argument
        | DONTCARE              -> dontcare_argument

expression_list: (expression ("," expression)*)?

// -------------------------------------------------------------- expressions
?expression: mux
?mux: lor
    | lor "?" expression ":" mux
?lor: land | lor "||" land -> lor
?land: eq | land "&&" eq -> land
?eq: rel | eq "==" rel -> eq | eq "!=" rel -> ne
?rel: bor | rel "<" bor -> lt | rel "<=" bor -> le | rel ">" bor -> gt | rel ">=" bor -> ge
?bor: bxor | bor "|" bxor -> bor
?bxor: band | bxor "^" band -> bxor
?band: shift | band "&" shift -> band
?shift: add | shift "<<" add -> shl
      | shift R_ANGLE_SHIFT ">" add -> shr
?add: mul | add "+" mul -> add | add "-" mul -> sub | add "++" mul -> concat
    | add "|+|" mul -> sat_add | add "|-|" mul -> sat_sub
?mul: unary | mul "*" unary -> mul | mul "/" unary -> div | mul "%" unary -> mod
?unary: postfix
      | "!" unary -> lnot
      | "~" unary -> bnot
      | "-" unary -> neg
      | "+" unary -> pos
      | "(" type_ref ")" unary -> cast
?postfix: primary
        | postfix "." member_name -> member
        | postfix "[" expression "]" -> index
        | postfix "[" expression ":" expression "]" -> slice
        | postfix "(" arguments ")" -> call
        | postfix TA_OPEN type_args _r_angle "(" arguments ")" -> generic_call
?primary: INTEGER -> int_lit
        | TRUE -> true_lit
        | FALSE -> false_lit
        | STRING_LITERAL -> string_lit
        | IDENTIFIER -> ident
        | "." IDENTIFIER -> global_ident
        | TYPE_IDENTIFIER "." member_name -> type_member
        | type_name "(" arguments ")" -> ctor_call
        | type_name "<" type_args _r_angle "(" arguments ")" -> generic_ctor_call
        | ERROR "." member_name -> error_member
        | "(" expression ")"
        | "{" expression_list "}" -> list_expr
        | "{" kv_pair ("," kv_pair)* ","? "}" -> struct_expr
        | "{" kv_pair ("," kv_pair)* "," DOTS "}" -> struct_expr
        | "{" DOTS "}" -> struct_expr
        | INVALID_HEADER -> invalid_header
        | "this" -> this_expr
kv_pair: name "=" expression


// ------------------------------------------------------------------ tokens
ANNOTATION.3: /@[A-Za-z_][A-Za-z0-9_]*(\((?:[^()"]|"(?:[^"\\]|\\.)*"|\((?:[^()"]|"(?:[^"\\]|\\.)*")*\))*\)|\[(?:[^\[\]"]|"(?:[^"\\]|\\.)*")*\])?/
DOTS: "..."
INVALID_HEADER: "{#}"
R_ANGLE_SHIFT.2: />(?=>)/
INTEGER: /(\d+[ws])?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[dD][0-9_]+|\d[0-9_]*)/
STRING_LITERAL: /"(\\.|[^"\\])*"/
IDENTIFIER: /[A-Za-z_][A-Za-z0-9_]*/
APPLY: "apply"
KEY: "key"
ACTIONS: "actions"
STATE: "state"
ENTRIES: "entries"
TYPE: "type"
BOOL: "bool"
ERROR: "error"
STRING: "string"
INT: "int"
BIT: "bit"
VARBIT: "varbit"
VOID: "void"
TRUE: "true"
FALSE: "false"
DONTCARE: "_"

%declare TYPE_IDENTIFIER TA_OPEN

%import common.WS
%ignore WS
"""
