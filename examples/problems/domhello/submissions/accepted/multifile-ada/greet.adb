with Greeting;
procedure Greet is
begin
   Greeting.Say;
end Greet;
