// WIDTH-bit ALU.
//   op  operation          carry
//   000 a + b              carry out of the adder
//   001 a - b              borrow (1 when a < b unsigned)
//   010 a & b              0
//   011 a | b              0
//   100 a ^ b              0
//   101 signed a < b       0  (y = 1 or 0)
//   110 a << b[SH-1:0]     0
//   111 a >> b[SH-1:0]     0  (logical)
// zero is 1 when y is all zeros.
module alu #(
    parameter integer WIDTH = 8,
    parameter integer SH    = 3      // shift-amount width, $clog2(WIDTH)
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    input  wire [2:0]       op,
    output reg  [WIDTH-1:0] y,
    output reg              carry,
    output wire             zero
);
    localparam [2:0] OP_ADD = 3'b000, OP_SUB = 3'b001, OP_AND = 3'b010, OP_OR  = 3'b011,
                     OP_XOR = 3'b100, OP_SLT = 3'b101, OP_SLL = 3'b110, OP_SRL = 3'b111;

    wire [WIDTH:0] sum  = {1'b0, a} + {1'b0, b};
    wire [WIDTH:0] diff = {1'b0, a} - {1'b0, b};

    always @* begin
        carry = 1'b0;
        case (op)
            OP_ADD:  {carry, y} = sum;
            OP_SUB:  {carry, y} = diff;
            OP_AND:  y = a & b;
            OP_OR:   y = a | b;
            OP_XOR:  y = a ^ b;
            OP_SLT:  y = {{(WIDTH-1){1'b0}}, ($signed(a) < $signed(b))};
            OP_SLL:  y = a << b[SH-1:0];
            default: y = a >> b[SH-1:0];
        endcase
    end

    assign zero = (y == {WIDTH{1'b0}});
endmodule
