module irq_controller #(
    parameter N = 8,
    parameter IW = 3
) (
    input clk, rst_n,
    input [N-1:0] irq_in,
    input mask_we,
    input [N-1:0] mask_in,
    input [N-1:0] clr,
    output reg [N-1:0] pending,
    output irq_out,
    output reg [IW-1:0] irq_id
);
    reg [N-1:0] m;
    integer k;
    reg found;
    always @(posedge clk)
        if (!rst_n) begin pending <= 0; m <= 0; end
        else begin
            for (k = 0; k < N; k = k + 1)
                pending[k] <= irq_in[k] ? 1'b1 : (clr[k] ? 1'b0 : pending[k]);
            if (mask_we) m <= mask_in;
        end
    assign irq_out = (pending & m) != 0;
    always @* begin
        irq_id = 0; found = 0;
        for (k = 0; k < N; k = k + 1)
            if (!found && pending[k] && m[k]) begin irq_id = k; found = 1; end
    end
endmodule
