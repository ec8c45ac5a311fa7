; Every comment in a Go file. The marker finder keeps the `//` comments that open their line
; (headers, bodies and labels of failpoints) and the `/* gofail-label */` comments of enabled
; labels; text inside string literals or block comments never reaches it.
(comment) @comment
