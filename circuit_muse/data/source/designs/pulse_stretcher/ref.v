module pulse_stretcher #(
    parameter LEN = 4,
    parameter CW = 3
) (
    input clk, rst_n, trigger,
    output out
);
    integer since;   // cycles since the last trigger edge (large = long ago)
    always @(posedge clk or negedge rst_n)
        if (!rst_n) since <= 1000;
        else if (trigger) since <= 0;
        else if (since < 1000) since <= since + 1;
    assign out = since < LEN;
endmodule
