// Escaped names on internal nets are fine (they never reach trusted text) as long as they hold no character a
// tool's preprocessor reads as a quote, comment, macro, bracket or argument separator (tests/hostile/lex_*).
`define INV(x) (~(x))
module escaped(input a, output y);
  wire \q=1 ;
  wire \odd$name.3 ;
  assign \q=1 = `INV(a);
  assign \odd$name.3 = \q=1 ;
  assign y = \odd$name.3 ;
endmodule
