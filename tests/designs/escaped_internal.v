// Escaped names on internal nets are fine (they never reach trusted text); a quote inside one must lex
// the same way in every tool.
`define INV(x) (~(x))
module escaped(input a, output y);
  wire \q" ;
  wire \odd$name[3] ;
  assign \q" = `INV(a);
  assign \odd$name[3] = \q" ;
  assign y = \odd$name[3] ;
endmodule
