¿Dónde pondrías un vaso de leche para mantenerlo frío?
¿Qué usa normalmente la gente para cortar papel?
Si estás cansado por la noche, ¿qué haces?
¿Dónde se pueden tomar prestados libros gratis?
¿Qué cae de las nubes cuando llueve?
¿Qué te pondrías en los pies para caminar por la nieve?
¿Dónde se suele encontrar una pizarra?
¿Qué tienes que hacer antes de poder comer un plátano?
¿Qué usa una persona para llamar a un amigo que vive lejos?
¿Por qué la gente lleva un paraguas?
¿Adónde irías para ver muchos tipos de animales salvajes?
¿Qué le pasa al hielo cuando se calienta?
