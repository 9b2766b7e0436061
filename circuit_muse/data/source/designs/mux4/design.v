// 4:1 multiplexer, WIDTH bits per input. sel picks the input: 0 -> in0 ... 3 -> in3.
module mux4 #(
    parameter integer WIDTH = 8
) (
    input  wire [WIDTH-1:0] in0,
    input  wire [WIDTH-1:0] in1,
    input  wire [WIDTH-1:0] in2,
    input  wire [WIDTH-1:0] in3,
    input  wire [1:0]       sel,
    output reg  [WIDTH-1:0] out
);
    always @* begin
        case (sel)
            2'd0:    out = in0;
            2'd1:    out = in1;
            2'd2:    out = in2;
            default: out = in3;
        endcase
    end
endmodule
