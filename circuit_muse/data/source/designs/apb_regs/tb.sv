// Self-checking bench: an APB3 master issues writes and reads (setup phase, then access phase, random idle
// cycles) to mapped and unmapped offsets, including the read-only ID register; a model checks PRDATA and
// PSLVERR in every access phase.
`timescale 1ns/1ps
module tb;
    localparam integer N_REGS = 5;
    localparam integer AW = 5;
    reg pclk = 1'b0, presetn = 1'b0, psel = 1'b0, penable = 1'b0, pwrite = 1'b0;
    reg [AW-1:0] paddr = 0;
    reg [31:0] pwdata = 0;
    wire [31:0] prdata;
    wire pready, pslverr;
    reg [31:0] model [0:(1<<(AW-2))-1];
    integer k, i, pass = 0, fail = 0, seed = 31, ix;
    reg exp_err;
    reg [31:0] exp_data;

    apb_regs dut (.pclk(pclk), .presetn(presetn), .psel(psel), .penable(penable), .pwrite(pwrite), .paddr(paddr),
                  .pwdata(pwdata), .prdata(prdata), .pready(pready), .pslverr(pslverr));

    always #5 pclk = ~pclk;

    always @(posedge pclk) if (presetn && !(psel && penable) && pslverr !== 1'b0) begin
        fail = fail + 1;
        if (fail <= 5) $display("CM_MISMATCH time=%0t signal=pslverr exp=0 got=%b (outside an access phase)", $time, pslverr);
    end

    task xfer(input wr, input [AW-1:0] addr, input [31:0] data);
        begin
            @(negedge pclk);
            psel = 1'b1; penable = 1'b0; pwrite = wr; paddr = addr; pwdata = data;   // setup phase
            @(negedge pclk);
            penable = 1'b1;                                                          // access phase
            #1;
            ix = addr >> 2;
            exp_err = (ix >= N_REGS);
            exp_data = exp_err ? 32'd0 : model[ix];
            if (pready === 1'b1 && pslverr === exp_err && (wr || prdata === exp_data)) pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=prdata/pslverr exp=%h/%b got=%h/%b (%s @%h)", $time, exp_data, exp_err, prdata, pslverr, wr ? "write" : "read", addr);
            end
            @(posedge pclk);
            if (wr && !exp_err && ix != 0) model[ix] = data;
            @(negedge pclk);
            psel = 1'b0; penable = 1'b0;
            repeat ($random(seed) & 3) @(negedge pclk);
        end
    endtask

    initial begin
        for (i = 0; i < (1 << (AW - 2)); i = i + 1) model[i] = 32'd0;
        model[0] = 32'hC0DE_0001;
        repeat (3) @(posedge pclk);
        #2 presetn = 1'b1;
        for (i = 0; i < (1 << (AW - 2)); i = i + 1) xfer(1'b0, i << 2, 0);
        for (k = 0; k < 200; k = k + 1)
            xfer($random(seed) & 1, $random(seed) & ((1 << AW) - 1), $random(seed));
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
