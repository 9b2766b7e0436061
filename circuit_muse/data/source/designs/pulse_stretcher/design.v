// Pulse stretcher: every cycle with trigger = 1 (re)starts a window of LEN cycles during which out = 1.
module pulse_stretcher #(
    parameter integer LEN = 4,
    parameter integer CW  = 3        // $clog2(LEN+1)
) (
    input  wire clk,
    input  wire rst_n,     // asynchronous, active low
    input  wire trigger,
    output wire out
);
    localparam [CW-1:0] LOAD = LEN[CW-1:0];

    reg [CW-1:0] remaining;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n)
            remaining <= {CW{1'b0}};
        else if (trigger)
            remaining <= LOAD;
        else if (remaining != {CW{1'b0}})
            remaining <= remaining - 1'b1;
    end

    assign out = (remaining != {CW{1'b0}});
endmodule
