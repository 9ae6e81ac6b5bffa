module goscope-testdata

go 1.22
