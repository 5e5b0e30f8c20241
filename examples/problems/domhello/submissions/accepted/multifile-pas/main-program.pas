{ @EXPECTED_RESULTS@: ACCEPTED }
program greeter;
uses domhello;
begin
  greet;
end.
