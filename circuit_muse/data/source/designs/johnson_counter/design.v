// Johnson (twisted-ring) counter: 2*WIDTH states, exactly one bit changes per step.
module johnson_counter #(
    parameter integer WIDTH = 4
) (
    input  wire             clk,
    input  wire             rst,       // asynchronous, active high
    input  wire             en,
    output reg  [WIDTH-1:0] q
);
    always @(posedge clk or posedge rst) begin
        if (rst)
            q <= {WIDTH{1'b0}};
        else if (en)
            q <= {q[WIDTH-2:0], ~q[WIDTH-1]};
    end
endmodule
