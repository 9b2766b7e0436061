module mux4 #(
    parameter WIDTH = 8
) (
    input  [WIDTH-1:0] in0, in1, in2, in3,
    input  [1:0]       sel,
    output [WIDTH-1:0] out
);
    wire [WIDTH-1:0] lo = sel[0] ? in1 : in0;
    wire [WIDTH-1:0] hi = sel[0] ? in3 : in2;
    assign out = sel[1] ? hi : lo;
endmodule
