package Greeting is
   procedure Say;
end Greeting;
