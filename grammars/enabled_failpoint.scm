; A failpoint as `gofail enable` writes it:
;   if vNAME, __fpErr := __fp_NAME.Acquire(); __fpErr == nil { X, __fpTypeOK := vNAME.(TYPE); ...
; The whole if statement is captured, with the runtime variable and the asserted type. The names
; (__fpErr, Acquire, the __fp_ prefix) are checked by the marker finder against the constants the
; templates also read (gofail_py/render.py), so they are written down in one place only.
(if_statement
  initializer: (short_var_declaration
    left: (expression_list
      . (identifier) @value
      . (identifier) @error_var .)
    right: (expression_list
      . (call_expression
          function: (selector_expression
            operand: (identifier) @runtime
            field: (field_identifier) @method)
          arguments: (argument_list) .)))
  consequence: (block
    (statement_list
      . (short_var_declaration
          right: (expression_list
            (type_assertion_expression
              type: (_) @type)))))) @failpoint
