// PWM generator: a free-running WIDTH-bit period counter; pwm_out is high while count < duty.
// duty is sampled only at the start of each period so the output never glitches mid-period.
module pwm #(
    parameter integer WIDTH = 8
) (
    input  wire             clk,
    input  wire             rst_n,     // synchronous, active low
    input  wire [WIDTH-1:0] duty,      // high time in clock cycles per 2**WIDTH-cycle period
    output reg              pwm_out
);
    reg [WIDTH-1:0] count;
    reg [WIDTH-1:0] duty_q;

    always @(posedge clk) begin
        if (!rst_n) begin
            count   <= {WIDTH{1'b0}};
            duty_q  <= {WIDTH{1'b0}};
            pwm_out <= 1'b0;
        end else begin
            count <= count + 1'b1;
            if (count == {WIDTH{1'b1}})
                duty_q <= duty;                       // new duty takes effect at the period boundary
            pwm_out <= (count == {WIDTH{1'b1}}) ? (duty != {WIDTH{1'b0}})
                                                : ((count + 1'b1) < duty_q);
        end
    end
endmodule
