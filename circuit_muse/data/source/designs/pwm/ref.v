module pwm #(
    parameter WIDTH = 8
) (
    input clk, rst_n,
    input [WIDTH-1:0] duty,
    output pwm_out
);
    // reference: output registered from the phase of the *next* cycle
    integer phase, d;
    reg o;
    always @(posedge clk) begin
        if (!rst_n) begin phase = 0; d = 0; o <= 0; end
        else begin
            phase = (phase + 1) % (1 << WIDTH);
            if (phase == 0) d = duty;
            o <= phase < d;
        end
    end
    assign pwm_out = o;
endmodule
